// The engine as calls end (SPEC §8): only the digit 1 reaches a person and stops the walk (and the other
// live calls); anything else sends the follow-up and calls the next contact, until the list runs out.
import t from 'tap';
import { decide } from './engine.js';
import type { Decision, EndedAttempt, EngineEffect } from './ticket.js';
import type { CallOutcome } from './walk.js';
import { NOW, TIMEOUT_SECONDS, ctx, minutesAfter, ticketIn } from './engine.fixtures.js';

const accepted = (d: Decision) => {
  if (!d.ok) throw new Error(`refused: ${d.detail}`);
  return d;
};
const attemptsOf = (effects: EngineEffect[]) => effects.flatMap((e) => (e.type === 'create_attempts' ? e.attempts.map((a) => `${a.kind}:${a.contactId}:${a.step}`) : []));
const callTo = (contactId: string, step: number, kind: EndedAttempt['kind'] = 'call'): EndedAttempt => ({ id: `attempt-${contactId}-${kind}`, contactId, contactName: contactId, kind, step });
const ended = (attempt: EndedAttempt, outcome: CallOutcome) => ({ type: 'call_ended' as const, attempt, outcome });
const twilio = ctx({ actor: 'twilio' });

t.test('the digit 1 on a walk call engages the ticket, stops the walk and cancels the other live calls', async (t) => {
  const d = accepted(decide(ticketIn('notifying'), ended(callTo('alice', 0), 'acknowledged'), twilio));
  t.match(d.ticket, { state: 'engaged', walking: false, deadlineAt: minutesAfter(NOW, TIMEOUT_SECONDS / 60), eventSeq: 5 });
  t.same(d.events.map((e) => [e.seq, e.type, e.reason]), [[4, 'call.ended', 'acknowledged'], [5, 'contact_reached', 'alice pressed 1']]);
  t.same(d.events[1]!.data, { attemptId: 'attempt-alice-call', contactId: 'alice', deadlineAt: minutesAfter(NOW, 60).toISOString() });
  t.same(d.effects.map((e) => e.type), ['cancel_pending_walk', 'create_attempts', 'cancel_live_calls']);
  t.same(d.effects[2], { type: 'cancel_live_calls', exceptAttemptId: 'attempt-alice-call' });
  t.same(attemptsOf(d.effects), ['confirmation:alice:5', 'confirmation:bob:5', 'confirmation:tina:5'], 'everyone learns who acknowledged, the TAM included');
});

t.test('the digit 1 on a ticket suspended at once stops the walk and keeps mail off', async (t) => {
  const d = accepted(decide(ticketIn('suspended', { walking: true }), ended(callTo('alice', 0), 'acknowledged'), twilio));
  t.match(d.ticket, { state: 'suspended', walking: false, outboundDisabled: true, deadlineAt: null });
  t.ok(d.effects.some((e) => e.type === 'cancel_live_calls'));
  t.notOk(d.effects.some((e) => e.type === 'enforce'), 'no enforcement event');
});

t.test("a TAM's acknowledgement is recorded but does not stop the walk", async (t) => {
  const d = accepted(decide(ticketIn('notifying'), ended(callTo('tina', 0, 'tam_call'), 'acknowledged'), twilio));
  t.match(d.ticket, { state: 'notifying', walking: true });
  t.same(d.events.map((e) => e.type), ['call.ended']);
  t.same(d.effects, []);
});

t.test('an acknowledgement after the walk stopped is recorded; the other calls are still cancelled', async (t) => {
  const d = accepted(decide(ticketIn('engaged'), ended(callTo('bob', 1), 'acknowledged'), twilio));
  t.equal(d.ticket.state, 'engaged');
  t.same(d.events.map((e) => e.type), ['call.ended']);
  t.same(d.effects.map((e) => e.type), ['cancel_live_calls']);
});

for (const outcome of ['answered', 'voicemail', 'no-answer', 'busy', 'failed', 'canceled', 'lost', 'unknown'] as const) {
  t.test(`a call that ends ${outcome} sends that contact the follow-up and calls the next one`, async (t) => {
    const d = accepted(decide(ticketIn('notifying'), ended(callTo('alice', 0), outcome), twilio));
    t.match(d.ticket, { state: 'notifying', walking: true, walkPosition: 1 });
    t.same(d.events.map((e) => [e.type, e.reason]), [['call.ended', outcome]]);
    t.same(attemptsOf(d.effects), ['followup:alice:0', 'call:bob:1']);
  });
}

t.test('when the last contact does not answer, the final email goes to all and the deadline starts', async (t) => {
  const d = accepted(decide(ticketIn('notifying', { walkPosition: 1 }), ended(callTo('bob', 1), 'no-answer'), twilio));
  t.match(d.ticket, { state: 'awaiting_response', walking: false, walkPosition: 2, deadlineAt: minutesAfter(NOW, 60) });
  t.same(d.events.map((e) => [e.seq, e.type, e.reason]), [[4, 'call.ended', 'no-answer'], [5, 'walk_exhausted', 'every contact was tried, nobody was reached']]);
  t.same(attemptsOf(d.effects), ['followup:bob:1', 'final:alice:5', 'final:bob:5', 'final:tina:5']);
});

t.test('on a ticket suspended at once, the exhausted walk sends the final email and mail stays off', async (t) => {
  const d = accepted(decide(ticketIn('suspended', { walking: true, walkPosition: 1 }), ended(callTo('bob', 1), 'busy'), twilio));
  t.match(d.ticket, { state: 'suspended', walking: false, deadlineAt: null });
  t.same(attemptsOf(d.effects), ['followup:bob:1', 'final:alice:5', 'final:bob:5', 'final:tina:5']);
});

t.test('a late result for an earlier step is recorded and does not move the walk', async (t) => {
  const d = accepted(decide(ticketIn('notifying', { walkPosition: 1 }), ended(callTo('alice', 0), 'no-answer'), twilio));
  t.equal(d.ticket.walkPosition, 1);
  t.same(d.events.map((e) => e.type), ['call.ended']);
  t.same(d.effects, []);
});

t.test("the end of a TAM's call does not move the walk", async (t) => {
  const d = accepted(decide(ticketIn('notifying'), ended(callTo('tina', 0, 'tam_call'), 'no-answer'), twilio));
  t.same(d.effects, []);
  t.equal(d.ticket.walkPosition, 0);
});

t.test('a call that ends after the walk stopped (resolution submitted) moves nothing', async (t) => {
  const d = accepted(decide(ticketIn('resolution_submitted'), ended(callTo('alice', 0), 'no-answer'), twilio));
  t.equal(d.ticket.state, 'resolution_submitted');
  t.same(d.effects, []);
});

t.test('a contact without an email gets no follow-up; the walk goes on to the next', async (t) => {
  const contacts = ticketIn('notifying').contacts.map((c) => (c.id === 'alice' ? { ...c, email: null } : c));
  const d = accepted(decide(ticketIn('notifying', { contacts }), ended(callTo('alice', 0), 'no-answer'), twilio));
  t.same(attemptsOf(d.effects), ['call:bob:1']);
});
