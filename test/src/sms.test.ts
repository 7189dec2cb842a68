// SMS (issue 16) end to end with the Twilio stand-in, which checks every Messages request against Twilio's
// OpenAPI description: a contact who prefers SMS is texted instead of called; a reply with a wrong code is
// kept on the ticket and answered with help, the right code engages the ticket; a number that opted out
// (Twilio 21610) moves the walk on; with smsAfterUnansweredCall an unanswered call brings an SMS beside the
// follow-up email, and its code still engages; inbound messages must be signed; a late reply to a closed
// ticket is told nothing is needed; an SMS beyond SMS_PER_NUMBER_PER_HOUR is not sent and the walk moves on,
// with follow-up emails that say what happened.
import { inboundMessageParams, messageStatusParams, signedPost, waitUntil } from '@abuse-desk/testkit';
import type { TwilioStandin } from '@abuse-desk/testkit';
import t from 'tap';
import { label } from './harness.js';
import type { Arrangement } from './harness.js';
import { ALICE, BOB, FROM, world } from './twilio-world.js';

const TEXTER = { ...ALICE, preferredChannel: 'sms' };
const smsTo = (standin: TwilioStandin, phone: string) => waitUntil(() => [...standin.messages.values()].find((m) => m.to === phone), { message: `no SMS to ${phone}` });
const codeIn = (body: string) => /ACK (\d{4})/.exec(body)?.[1];

for (const arrangement of [{ engine: 'pglite', processes: 'one' }, { engine: 'postgres', processes: 'one' }] as Arrangement[]) {
  t.test(`${label(arrangement)}: a contact who prefers SMS is texted instead of called; a wrong code does not engage, the right one does`, async (t) => {
    const w = await world(t, `sms-ack-${arrangement.engine}`, [TEXTER, BOB], {}, arrangement);
    const inbound = (body: string, from = ALICE.phone) => signedPost(`${w.svc.baseUrl}/webhooks/twilio/sms`, inboundMessageParams({ accountSid: w.standin.accountSid, from, to: FROM, body }), w.standin.authToken);

    const sms = await smsTo(w.standin, ALICE.phone);
    t.match(sms.body, new RegExp(`${w.number}.*Reply ACK \\d{4} to acknowledge`), 'the SMS names the ticket and the code');
    t.match(sms.body, /press 1 when we call, or use the link in our email/, 'and the other ways to acknowledge');
    t.equal(sms.from, FROM, 'sent from TWILIO_FROM_NUMBER');
    t.match(sms.params['StatusCallback'], /\/webhooks\/twilio\/sms-status\?a=/, 'with a status callback');
    const creates = w.standin.requests.filter((r) => r.method === 'POST' && /Messages\.json$/.test(r.path));
    t.equal(creates.length, 1, 'one Messages create');
    t.same(creates[0]!.specErrors, [], 'the create conforms to Twilio’s OpenAPI description');
    t.equal([...w.standin.calls.values()].filter((c) => c.to === ALICE.phone).length, 0, 'Alice is not called');
    const code = codeIn(sms.body)!;
    const wrong = String((Number(code) + 1) % 10_000).padStart(4, '0');

    const unsigned = await signedPost(`${w.svc.baseUrl}/webhooks/twilio/sms`, inboundMessageParams({ accountSid: w.standin.accountSid, from: ALICE.phone, to: FROM, body: `ACK ${code}` }), 'not-the-auth-token');
    t.equal(unsigned.status, 403, 'a message signed with another key is refused');

    const status = await signedPost(`${w.svc.baseUrl}/webhooks/twilio/sms-status?a=${new URL(String(sms.params['StatusCallback'])).searchParams.get('a')}`, messageStatusParams(sms, 'delivered'), w.standin.authToken);
    t.equal(status.status, 204);

    const miss = await inbound(`ACK ${wrong}`);
    t.equal(miss.status, 200);
    t.match(miss.contentType, /xml/);
    t.match(miss.body, /<Message>That code does not match ABU-\d+/, 'the wrong code is answered with how to acknowledge');
    const chat = await inbound('who is this?');
    t.match(chat.body, /<Message>Your message is on ABU-\d+/);
    let tk = await w.ticket();
    t.equal(tk.state, 'notifying', 'a wrong code engages nothing');
    t.same(tk.events.filter((e: any) => e.type === 'sms.reply').map((e: any) => e.reason), [`ACK ${wrong}`, 'who is this?'], 'both replies are on the ticket');
    t.match(tk.attempts.find((a: any) => a.kind === 'sms'), { status: 'placed', messageStatus: 'delivered' }, 'the SMS waits for the reply, delivered');

    const hit = await inbound(`ack ${code}`);
    t.match(hit.body, new RegExp(`<Message>Thank you: ${w.number} is acknowledged`), 'the right code is confirmed by SMS');
    tk = await w.ticket();
    t.equal(tk.state, 'engaged', 'the right code engages the ticket');
    t.ok(tk.deadlineAt, 'the deadline runs');
    t.match(tk.events.find((e: any) => e.type === 'contact_reached'), { actor: `contact:${ALICE.name}`, reason: `${ALICE.name} acknowledged by SMS`, data: { channel: 'sms' } });
    t.match(tk.attempts.find((a: any) => a.kind === 'sms'), { status: 'done', outcome: 'acknowledged' });
    const [confirmation] = await w.sink.waitFor((m) => m.envelopeTo.includes(BOB.email) && /Acknowledged/.test(m.subject ?? ''));
    t.match(confirmation?.text, `${ALICE.name} acknowledged this ticket for`);
    t.match(confirmation?.text, 'by replying to our SMS', 'everyone is told who acknowledged and how');
    t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 0, 'Bob was never called');

    t.equal((await w.api('POST', `/v1/tickets/${w.number}/resolve`, { note: 'fixed' })).status, 200);
    const late = await inbound(`ACK ${code}`);
    t.match(late.body, new RegExp(`<Message>${w.number} needs no acknowledgement any more \\(it is resolved\\)`), 'a late reply after the ticket closed is told so');
    t.equal((await w.ticket()).events.filter((e: any) => e.type === 'sms.reply').length, 2, 'and is not recorded on the closed ticket');
  });
}

t.test('a number that opted out (Twilio 21610) gets no SMS and the walk moves on to the next contact', async (t) => {
  const w = await world(t, 'sms-optout', [TEXTER, BOB], {}, { engine: 'postgres', processes: 'one' }, (standin) => standin.optOut(ALICE.phone));
  await w.callTo(BOB.phone);
  const tk = await w.ticket();
  t.match(tk.attempts.find((a: any) => a.kind === 'sms'), { status: 'done', outcome: 'opted-out' });
  t.match(tk.attempts.find((a: any) => a.kind === 'sms').lastError, /21610/, 'Twilio’s refusal is on the timeline');
  t.equal(w.standin.messages.size, 0, 'nothing was sent');
  await w.sink.waitFor((m) => m.envelopeTo.includes(ALICE.email) && /ABU-/.test(m.subject ?? ''), { message: 'no follow-up email to Alice' } as never);
  const stop = await signedPost(`${w.svc.baseUrl}/webhooks/twilio/sms`, inboundMessageParams({ accountSid: w.standin.accountSid, from: BOB.phone, to: FROM, body: 'STOP' }), w.standin.authToken);
  t.equal(stop.status, 200);
  t.notMatch(stop.body, /<Message>/, 'STOP is not answered by us (Twilio answers it)');
});

t.test('with smsAfterUnansweredCall an unanswered call brings an SMS beside the follow-up; its code still engages, through a messaging service', async (t) => {
  const service = `MG${'ab'.repeat(16)}`;
  const w = await world(t, 'sms-after-call', [ALICE, BOB], { TWILIO_MESSAGING_SERVICE_SID: service }, { engine: 'postgres', processes: 'one' }, async (_standin, api, tenant) => {
    const set = await api('PUT', `/v1/tenants/${tenant}/policy`, { policy: { smsAfterUnansweredCall: true }, reason: 'on-call staff read SMS' });
    t.equal(set.status, 200);
  });
  const call = await w.callTo(ALICE.phone);
  t.equal(w.standin.messages.size, 0, 'no SMS while the call rings');
  await w.callback('status', call.attemptId, { CallSid: call.sid, CallStatus: 'no-answer', SequenceNumber: '3' });
  const sms = await smsTo(w.standin, ALICE.phone);
  t.equal(sms.messagingServiceSid, service, 'sent through TWILIO_MESSAGING_SERVICE_SID');
  t.notOk('From' in sms.params, 'without a From number');
  t.match(sms.body, /We called about ABU-\d+ .* and missed you\. Reply ACK \d{4}/);
  const bob = await w.callTo(BOB.phone);
  const hit = await signedPost(`${w.svc.baseUrl}/webhooks/twilio/sms`, inboundMessageParams({ accountSid: w.standin.accountSid, from: ALICE.phone, to: FROM, body: `ACK ${codeIn(sms.body)}`, messagingServiceSid: service }), w.standin.authToken);
  t.match(hit.body, /is acknowledged/);
  t.equal((await w.ticket()).state, 'engaged');
  await waitUntil(() => w.standin.calls.get(bob.sid)?.updates.some((u) => u['Status'] === 'canceled'), { message: 'Bob’s ringing call was not cancelled' });
  t.pass('Bob’s ringing call is cancelled');
});

t.test('SMS_PER_NUMBER_PER_HOUR: an SMS beyond the number’s hourly allowance is not sent, and the walk moves on', async (t) => {
  // Carol shares Alice's mobile (one on-call phone on the list twice) and prefers SMS too.
  const CAROL = { name: 'Carol Shared', email: 'carol@example.com', phone: ALICE.phone, role: 'contact', preferredChannel: 'sms' };
  const w = await world(t, 'sms-per-number', [TEXTER, CAROL, BOB], { SMS_PER_NUMBER_PER_HOUR: '1' });
  const sms = await smsTo(w.standin, ALICE.phone);
  const a = new URL(String(sms.params['StatusCallback'])).searchParams.get('a');
  t.equal((await signedPost(`${w.svc.baseUrl}/webhooks/twilio/sms-status?a=${a}`, messageStatusParams(sms, 'undelivered'), w.standin.authToken)).status, 204);
  // Alice's SMS was not delivered: the walk goes to Carol, whose SMS would be the number's second in the hour.
  await w.callTo(BOB.phone);
  const tk = await w.ticket();
  t.match(tk.attempts.find((x: any) => x.kind === 'sms' && x.contactName === TEXTER.name), { status: 'done', outcome: 'undelivered' });
  const carol = tk.attempts.find((x: any) => x.kind === 'sms' && x.contactName === CAROL.name);
  t.match(carol, { status: 'done', outcome: 'rate-limited' }, 'Carol’s SMS ended rate-limited');
  t.match(carol?.lastError, /had 1 SMS in the last hour \(SMS_PER_NUMBER_PER_HOUR is 1\); not sent/, 'the timeline says why');
  t.equal(w.standin.messages.size, 1, 'Twilio was asked for one SMS only');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 1, 'the walk moved on: Bob is called');
  // Each gets a follow-up email that says what happened, not that we called; only Alice, whom we texted, is told of the code.
  const [alice] = await w.sink.waitFor((m) => m.envelopeTo.includes(ALICE.email) && /action needed/.test(m.subject ?? ''));
  t.match(alice?.text, 'We sent you a text message about outbound mail from', 'Alice: we texted and had no reply');
  t.match(alice?.text, /reply ACK \d{4} to our text message/, 'Alice may still reply with the code');
  const [carolMail] = await w.sink.waitFor((m) => m.envelopeTo.includes(CAROL.email) && /action needed/.test(m.subject ?? ''));
  t.match(carolMail?.text, 'We could not send you a text message about outbound mail from', 'Carol: we could not text');
  t.notMatch(carolMail?.text, /We called you|reply ACK/, 'never that we called, nor a code for a text she never got');
});
