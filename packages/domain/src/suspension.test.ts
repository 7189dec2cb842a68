import t from 'tap';
import { suspensionGrounds } from './suspension.js';

t.test('a suspension by the deadline or by a rule at once is automated; one by an agent is not and quotes the reason', async (t) => {
  t.same(suspensionGrounds({ type: 'deadline_passed', reason: 'no resolution within 3600 s' }), { automated: true, grounds: 'no fix was reported before the deadline' });
  t.same(suspensionGrounds({ type: 'suspend_on_open', reason: 'a repeat offence during probation' }), { automated: true, grounds: 'a repeat offence during probation' });
  t.same(suspensionGrounds({ type: 'suspend_on_open', reason: null }), { automated: true, grounds: 'the rule that tripped disables outbound mail at once' });
  t.same(suspensionGrounds({ type: 'suspend', reason: ' phishing kit on the account ' }), { automated: false, grounds: 'phishing kit on the account' });
  t.same(suspensionGrounds({ type: 'suspend', reason: '' }), { automated: false, grounds: 'a support agent stopped the abuse at once' });
});
