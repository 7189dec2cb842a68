// SMS in the walk (issue 16): a contact who prefers SMS is texted instead of called and the walk waits for
// the SMS's end; the policy can add an SMS beside the follow-up email after an unanswered call; a reply
// with the code acknowledges (the `acknowledged` event, channel sms), any other reply is recorded.
import t from 'tap';
import { decide } from './engine.js';
import type { Decision, EndedAttempt, EngineEffect } from './ticket.js';
import type { SmsOutcome, WalkContact } from './walk.js';
import { CONTACTS, ctx, ticketIn, tripEvent } from './engine.fixtures.js';

const accepted = (d: Decision) => {
  if (!d.ok) throw new Error(`refused: ${d.detail}`);
  return d;
};
const planned = (effects: EngineEffect[]) => effects.flatMap((e) => (e.type === 'create_attempts' ? e.attempts.map((a) => `${a.kind}/${a.channel}:${a.contactId}:${a.step}->${a.address}`) : []));
const texter = (contacts: WalkContact[]) => contacts.map((c) => (c.id === 'alice' ? { ...c, preferredChannel: 'sms' as const } : c));
const SMS_FIRST = texter(CONTACTS);
const sms = (contactId: string, step: number, kind: 'sms' | 'sms_followup' = 'sms'): EndedAttempt => ({ id: `sms-${contactId}`, contactId, contactName: contactId, kind, step });
const smsEnded = (attempt: EndedAttempt, outcome: SmsOutcome) => ({ type: 'sms_ended' as const, attempt, outcome });
const twilio = ctx({ actor: 'twilio' });

t.test('a contact who prefers SMS is texted instead of called, and the walk waits on that step', async (t) => {
  const d = accepted(decide(null, tripEvent({}, SMS_FIRST), ctx({ actor: 'system:counter' })));
  const alice = SMS_FIRST[0]!;
  t.same(planned(d.effects), ['tam_briefing/email:tina:0->tina@tenant.example', `sms/sms:alice:0->${alice.phone}`], 'an SMS to her phone number, no call, no follow-up yet');
  t.match(d.ticket, { walkPosition: 0, walking: true, state: 'notifying' });
});

for (const outcome of ['no-reply', 'undelivered', 'failed', 'opted-out', 'unknown', 'rate-limited'] as const) {
  t.test(`the walk's SMS ending ${outcome} sends the follow-up email and moves to the next contact`, async (t) => {
    const d = accepted(decide(ticketIn('notifying', { contacts: SMS_FIRST }), smsEnded(sms('alice', 0), outcome), twilio));
    t.same(planned(d.effects), ['followup/email:alice:0->alice@tenant.example', 'call/voice:bob:1->+14155550102']);
    t.equal(d.ticket.walkPosition, 1);
    t.same(d.events.map((e) => [e.type, e.reason]), [['sms.ended', outcome]]);
  });
}

t.test('an SMS end that is not the step the walk waits on only goes on the record', async (t) => {
  const later = accepted(decide(ticketIn('notifying', { contacts: SMS_FIRST, walkPosition: 1 }), smsEnded(sms('alice', 0), 'no-reply'), twilio));
  t.same(planned(later.effects), [], 'a late end of an earlier step plans nothing');
  const acked = accepted(decide(ticketIn('notifying', { contacts: SMS_FIRST }), smsEnded(sms('alice', 0), 'acknowledged'), twilio));
  t.same(planned(acked.effects), [], 'an acknowledged SMS does not move the walk (the acknowledgement stopped it)');
  const followup = accepted(decide(ticketIn('notifying'), smsEnded(sms('alice', 0, 'sms_followup'), 'opted-out'), twilio));
  t.same(planned(followup.effects), [], 'an SMS beside a follow-up never moves the walk');
  const engaged = accepted(decide(ticketIn('engaged'), smsEnded(sms('alice', 0), 'no-reply'), twilio));
  t.same(planned(engaged.effects), [], 'once acknowledged, nothing more is planned');
  t.equal(engaged.events[0]?.type, 'sms.ended');
});

t.test('with smsAfterUnansweredCall, an unanswered call adds an SMS beside the follow-up email', async (t) => {
  const on = ticketIn('notifying', { sms: { afterUnansweredCall: true, replySeconds: 300 } });
  const call: EndedAttempt = { id: 'c1', contactId: 'alice', contactName: 'Alice', kind: 'call', step: 0 };
  const d = accepted(decide(on, { type: 'call_ended', attempt: call, outcome: 'no-answer' }, twilio));
  t.same(planned(d.effects), ['followup/email:alice:0->alice@tenant.example', `sms_followup/sms:alice:0->${CONTACTS[0]!.phone}`, 'call/voice:bob:1->+14155550102'], 'the walk does not wait for that SMS');
  const off = accepted(decide(ticketIn('notifying'), { type: 'call_ended', attempt: call, outcome: 'no-answer' }, twilio));
  t.same(planned(off.effects), ['followup/email:alice:0->alice@tenant.example', 'call/voice:bob:1->+14155550102'], 'without the setting: no SMS');
});

t.test('a ticket keeps the SMS settings its trip carried', async (t) => {
  const d = accepted(decide(null, tripEvent({ sms: { afterUnansweredCall: true, replySeconds: 120 } }), ctx({ actor: 'system:counter' })));
  t.same(d.ticket.sms, { afterUnansweredCall: true, replySeconds: 120 });
});

t.test('an acknowledgement by SMS stops the walk, starts the deadline, ends live calls and tells everyone how', async (t) => {
  const d = accepted(decide(ticketIn('notifying', { contacts: SMS_FIRST }), { type: 'acknowledged', contactId: 'alice', channel: 'sms' }, ctx({ actor: 'contact:Alice' })));
  t.equal(d.ticket.state, 'engaged');
  t.ok(d.ticket.deadlineAt, 'the deadline runs');
  t.match(d.effects, [{ type: 'cancel_pending_walk', kinds: ['call', 'followup', 'sms', 'sms_followup', 'tam_call'] }], 'pending SMS of the walk are cancelled with its calls');
  t.ok(d.effects.some((e) => e.type === 'cancel_live_calls'));
  t.equal(d.events[0]?.reason, 'Alice acknowledged by SMS');
  t.same(planned(d.effects).filter((p) => p.startsWith('confirmation')).length, 3, 'a confirmation to each contact with an email, the TAM included');
});

t.test('a reply without the code is recorded on the ticket and changes nothing else', async (t) => {
  const before = ticketIn('notifying', { contacts: SMS_FIRST });
  const d = accepted(decide(before, { type: 'sms_reply', contactId: 'alice', body: 'who is this?' }, ctx({ actor: 'contact:Alice' })));
  t.same(d.events.map((e) => [e.type, e.reason, e.data]), [['sms.reply', 'who is this?', { contactId: 'alice', contactName: 'Alice' }]]);
  t.same(d.effects, []);
  t.match(d.ticket, { state: 'notifying', walking: true, walkPosition: 0 });
  t.notOk(decide(before, { type: 'sms_reply', contactId: 'mallory', body: 'x' }, ctx()).ok, 'a contact not on the ticket is refused');
});
