// Redial (issue 16): with the policy's callAttempts > 1, an unanswered contact is called again
// redialAfterSeconds later before the walk moves on (no follow-up in between); every call is on the
// timeline; the last unanswered call sends the follow-up and calls the next contact.
import t from 'tap';
import { decide } from './engine.js';
import type { Decision, EndedAttempt, EngineEffect } from './ticket.js';
import type { CallOutcome } from './walk.js';
import { ctx, minutesAfter, NOW, ticketIn, tripEvent } from './engine.fixtures.js';

const accepted = (d: Decision) => {
  if (!d.ok) throw new Error(`refused: ${d.detail}`);
  return d;
};
const planned = (effects: EngineEffect[]) => effects.flatMap((e) => (e.type === 'create_attempts' ? e.attempts.map((a) => ({ what: `${a.kind}:${a.contactId}:${a.step}:${a.round ?? 1}`, delay: a.delaySeconds ?? 0 })) : []));
const call = (contactId: string, step: number, round: number): EndedAttempt => ({ id: `call-${contactId}-${round}`, contactId, contactName: contactId, kind: 'call', step, round });
const ended = (attempt: EndedAttempt, outcome: CallOutcome) => ({ type: 'call_ended' as const, attempt, outcome });
const twice = { redial: { callAttempts: 2, afterSeconds: 90 } };
const twilio = ctx({ actor: 'twilio' });

t.test('a ticket keeps the redial settings its trip carried', async (t) => {
  const d = accepted(decide(null, tripEvent({ redial: { callAttempts: 3, afterSeconds: 60 } }), ctx({ actor: 'system:counter' })));
  t.same(d.ticket.redial, { callAttempts: 3, afterSeconds: 60 });
});

for (const outcome of ['no-answer', 'busy', 'voicemail', 'answered'] as const) {
  t.test(`with callAttempts 2, a first call that ends ${outcome} is redialled after redialAfterSeconds; the walk waits`, async (t) => {
    const d = accepted(decide(ticketIn('notifying', twice), ended(call('alice', 0, 1), outcome), twilio));
    t.same(planned(d.effects), [{ what: 'call:alice:0:2', delay: 90 }], 'the same contact, round 2, in 90 s; no follow-up yet');
    t.match(d.ticket, { walkPosition: 0, walking: true, state: 'notifying' });
    t.same(d.events.map((e) => [e.type, e.reason]), [['call.ended', outcome], ['call.redial', 'alice: call 2 of 2 in 90 s']]);
  });
}

t.test('the last unanswered call sends the follow-up and calls the next contact', async (t) => {
  const d = accepted(decide(ticketIn('notifying', twice), ended(call('alice', 0, 2), 'no-answer'), twilio));
  t.same(planned(d.effects).map((p) => p.what), ['followup:alice:0:1', 'call:bob:1:1']);
  t.equal(d.ticket.walkPosition, 1);
});

t.test('a call that failed, was rate-limited or cancelled is not redialled', async (t) => {
  for (const outcome of ['failed', 'rate-limited', 'canceled', 'unknown', 'lost'] as const) {
    const d = accepted(decide(ticketIn('notifying', twice), ended(call('alice', 0, 1), outcome), twilio));
    t.notOk(planned(d.effects).some((p) => p.what === 'call:alice:0:2'), `${outcome}: no redial`);
  }
});

t.test('no redial that would only ring after the deadline', async (t) => {
  const soon = ticketIn('suspended', { walking: true, ...twice, deadlineAt: minutesAfter(NOW, 1) });
  const d = accepted(decide(soon, ended(call('alice', 0, 1), 'no-answer'), twilio));
  t.notOk(planned(d.effects).some((p) => p.what === 'call:alice:0:2'), 'the walk moves on instead');
});

t.test('without redial settings (a ticket from before issue 16) the walk moves on after one call', async (t) => {
  const d = accepted(decide(ticketIn('notifying'), ended(call('alice', 0, 1), 'no-answer'), twilio));
  t.same(planned(d.effects).map((p) => p.what), ['followup:alice:0:1', 'call:bob:1:1']);
});
