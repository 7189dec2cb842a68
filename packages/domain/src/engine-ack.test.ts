// The engine when a contact acknowledges without a live call (issue 16): by the email link it is the same
// as pressing 1 — engaged, deadline, walk stopped, every live call ended, everyone told; a TAM's is only
// recorded; once nobody needs to acknowledge, or for someone not on the list, it is refused.
import t from 'tap';
import { decide } from './engine.js';
import type { Decision } from './ticket.js';
import { NOW, TIMEOUT_SECONDS, ctx, minutesAfter, ticketIn } from './engine.fixtures.js';

const accepted = (d: Decision) => {
  if (!d.ok) throw new Error(`refused: ${d.detail}`);
  return d;
};
const link = (contactId: string) => ({ type: 'acknowledged' as const, contactId, channel: 'link' as const });
const contact = ctx({ actor: 'contact:bob' });

t.test('a contact acknowledging by link engages the ticket, stops the walk and ends every live call', async (t) => {
  const d = accepted(decide(ticketIn('notifying'), link('bob'), contact));
  t.match(d.ticket, { state: 'engaged', walking: false, deadlineAt: minutesAfter(NOW, TIMEOUT_SECONDS / 60) });
  t.same(d.events.map((e) => [e.type, e.reason]), [['contact_reached', 'Bob acknowledged by the email link']]);
  t.match(d.events[0]!.data, { contactId: 'bob', channel: 'link' });
  t.same(d.effects.find((e) => e.type === 'cancel_live_calls'), { type: 'cancel_live_calls', exceptAttemptId: null }, 'no call is spared: the acknowledgement came by link');
  t.ok(d.effects.some((e) => e.type === 'create_attempts' && e.attempts.some((a) => a.kind === 'confirmation' && a.contactId === 'tina')), 'the TAM is told too');
});

t.test('on a ticket suspended at once, a link acknowledgement stops the walk and keeps mail off', async (t) => {
  const d = accepted(decide(ticketIn('suspended', { walking: true }), link('alice'), contact));
  t.match(d.ticket, { state: 'suspended', walking: false, outboundDisabled: true });
  t.notOk(d.effects.some((e) => e.type === 'enforce'));
});

t.test("a TAM's link acknowledgement is recorded and the walk goes on", async (t) => {
  const d = accepted(decide(ticketIn('notifying'), link('tina'), contact));
  t.match(d.ticket, { state: 'notifying', walking: true });
  t.same(d.events.map((e) => e.type), ['acknowledged']);
  t.same(d.effects, []);
});

t.test('an acknowledgement when none is needed, or by someone not on the list, is refused', async (t) => {
  for (const state of ['engaged', 'awaiting_response', 'resolution_submitted', 'resolved', 'dismissed'] as const) {
    const d = decide(ticketIn(state, { walking: false }), link('bob'), contact);
    t.equal(d.ok, false, `${state}: refused`);
  }
  t.match(decide(ticketIn('notifying'), link('mallory'), contact), { ok: false, detail: /not on the ticket/ });
});
