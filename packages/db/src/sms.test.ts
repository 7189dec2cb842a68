// SMS in the store (issue 16), on both engines: the walk's SMS waits for a reply once sent; a reply with
// the ticket's code acknowledges as that contact, a wrong code or other text is kept on the ticket; only
// tickets that texted the sender's number are touched; status callbacks never go backwards, a failed walk
// SMS moves the walk on, Twilio's 21610 puts the number on the opt-out list.
import { contactList } from '@abuse-desk/testkit';
import t from 'tap';
import { claimDue } from './claim.js';
import { LATE_REPLY_DAYS, applyMessageStatus, clearSmsOptOut, codeOfReply, isSmsOptedOut, markSmsSent, recordSmsOptOut, smsReply, smsSentTo } from './sms.js';
import { recordSmsOutcome } from './tickets.js';
import { ENGINES, openTestDb, storedRows } from './testing.js';
import { NOW, TIMEOUT_SECONDS, attempt, attemptsOf, command, eventsOf, openTicketFor, ticketRow } from './tickets.fixtures.js';

const ctx = { now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS, destinations: ['kafka'] as const };
const TEXTER = contactList({ alice: { preferredChannel: 'sms' } });
const ALICE_PHONE = TEXTER[0]!.phone!;

t.test('the code of a reply: ACK and four digits in any case, or four digits alone', async (t) => {
  t.equal(codeOfReply('ACK 4821'), '4821');
  t.equal(codeOfReply('ack4821 thanks'), '4821');
  t.equal(codeOfReply('Ack: 0042'), '0042');
  t.equal(codeOfReply('on it, 4821'), '4821');
  t.equal(codeOfReply('call me on 0049301234567'), null, 'digits inside a longer number are no code');
  t.equal(codeOfReply('who is this?'), null);
});

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    /** A ticket whose walk texted Alice (her SMS claimed and sent), with its code. */
    const texted = async (tenantId: string, contacts = TEXTER) => {
      const { ticket, contactId } = await openTicketFor(db, tenantId, NOW, contacts);
      const sms = attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'sms');
      t.match(sms, { channel: 'sms', address: contacts[0]!.phone, status: 'pending' }, 'the walk starts with an SMS to Alice, no call');
      t.ok((await claimDue(db, 'contact_attempts', { now: NOW, limit: 50, leaseSeconds: 30, workerId: 'w' })).some((a) => a.id === sms.id), 'SMS are claimed by the attempts loop');
      await markSmsSent(db, sms.id, `SM${tenantId}`, new Date(NOW.getTime() + 300_000), NOW);
      const row = await ticketRow(db, ticket.id);
      t.match(row.ack_code, /^\d{4}$/, 'the ticket has a four-digit code');
      return { ticket: row, sms, code: row.ack_code!, contactId };
    };
    const reply = (from: string, body: string, now = NOW) => db.transaction().execute((trx) => smsReply(trx, { from, body }, { ...ctx, now }));

    t.test('a sent walk SMS waits for the reply until the window ends', async (t) => {
      const { sms } = await texted('sms-wait');
      const row = (await storedRows(db, 'contact_attempts', { id: sms.id }))[0]!;
      t.equal(await smsSentTo(db, row.ticket_id, row.contact_id), true, 'the contact counts as texted');
      t.match((await storedRows(db, 'contact_attempts', { id: sms.id }))[0], { status: 'placed', provider_ref: 'SMsms-wait', due_at: new Date(NOW.getTime() + 300_000) });
    });

    t.test('the right code from the texted number acknowledges as that contact and ends the SMS', async (t) => {
      const { ticket, sms, code } = await texted('sms-ack');
      const r = await reply(ALICE_PHONE, `ACK ${code}`);
      t.match(r, { kind: 'acknowledged', tickets: [{ number: ticket.number, contactName: 'Alice Admin' }] });
      const after = await ticketRow(db, ticket.id);
      t.equal(after.state, 'engaged');
      t.ok(after.deadline_at, 'the deadline runs');
      const reached = (await eventsOf(db, ticket.id)).find((e) => e.type === 'contact_reached');
      t.match(reached, { actor: 'contact:Alice Admin', reason: 'Alice Admin acknowledged by SMS' });
      t.match((await storedRows(db, 'contact_attempts', { id: sms.id }))[0], { status: 'done', outcome: 'acknowledged' });
      t.ok((await attemptsOf(db, ticket.id)).some((a) => a.kind === 'confirmation'), 'confirmations are queued');
      t.match(await reply(ALICE_PHONE, `ACK ${code}`), { kind: 'notNeeded', tickets: [{ number: ticket.number }] }, 'a second reply needs nothing');
    });

    t.test('a wrong code or other text is recorded on the ticket and acknowledges nothing', async (t) => {
      const { ticket, code } = await texted('sms-wrong');
      const wrong = String((Number(code) + 1) % 10_000).padStart(4, '0');
      t.match(await reply(ALICE_PHONE, `ACK ${wrong}`), { kind: 'recorded', codeGiven: true });
      t.match(await reply(ALICE_PHONE, 'who is this?'), { kind: 'recorded', codeGiven: false });
      const after = await ticketRow(db, ticket.id);
      t.match(after, { state: 'notifying', walking: true });
      t.same((await eventsOf(db, ticket.id)).filter((e) => e.type === 'sms.reply').map((e) => e.reason), [`ACK ${wrong}`, 'who is this?']);
    });

    t.test('the code from a number we did not text acknowledges nothing', async (t) => {
      const { ticket, code } = await texted('sms-stranger');
      t.same(await reply('+14155559999', `ACK ${code}`), { kind: 'unknownSender' });
      t.equal((await ticketRow(db, ticket.id)).state, 'notifying');
    });

    t.test('an SMS that was never sent (rate-limited) makes its number no sender of that ticket: a reply there is unknown', async (t) => {
      const phone = '+14155557777';
      const { ticket } = await openTicketFor(db, 'sms-never-sent', NOW, contactList({ alice: { preferredChannel: 'sms', phone } }));
      const sms = attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'sms');
      await claimDue(db, 'contact_attempts', { now: NOW, limit: 50, leaseSeconds: 30, workerId: 'w' });
      await db.transaction().execute((trx) => recordSmsOutcome(trx, sms.id, 'rate-limited', { ...ctx, actor: 'notifier', error: 'the number had its SMS for the hour' }));
      t.match((await storedRows(db, 'contact_attempts', { id: sms.id }))[0], { status: 'done', outcome: 'rate-limited', provider_ref: null });
      const code = (await ticketRow(db, ticket.id)).ack_code!;
      t.same(await reply(phone, `ACK ${code}`), { kind: 'unknownSender' }, 'even the right code does nothing: we never texted that number');
      t.same(await reply(phone, 'who is this?'), { kind: 'unknownSender' }, 'and other text is not put on the ticket');
      t.equal((await eventsOf(db, ticket.id)).filter((e) => e.type === 'sms.reply').length, 0);
      const row = (await storedRows(db, 'contact_attempts', { id: sms.id }))[0]!;
      t.equal(await smsSentTo(db, ticket.id, row.contact_id), false, 'the contact counts as not texted');
    });

    t.test('a reply that arrives while the SMS is still being sent (no SID written yet) is matched', async (t) => {
      const phone = '+14155557778';
      const { ticket } = await openTicketFor(db, 'sms-in-flight', NOW, contactList({ alice: { preferredChannel: 'sms', phone } }));
      const sms = attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'sms');
      await claimDue(db, 'contact_attempts', { now: NOW, limit: 50, leaseSeconds: 30, workerId: 'w' });
      t.match((await storedRows(db, 'contact_attempts', { id: sms.id }))[0], { status: 'dispatching', provider_ref: null });
      const code = (await ticketRow(db, ticket.id)).ack_code!;
      t.match(await reply(phone, `ACK ${code}`), { kind: 'acknowledged', tickets: [{ number: ticket.number }] });
      t.equal((await ticketRow(db, ticket.id)).state, 'engaged');
    });

    t.test('a late reply to a closed ticket is told nothing is needed, records nothing, and after a week is not answered', async (t) => {
      const phone = '+14155550123';
      const { ticket, code } = await texted('sms-late', contactList({ alice: { preferredChannel: 'sms', phone } }));
      t.match(await command(db, ticket.id, { type: 'dismiss' }, { now: NOW, actor: 'agent:dana', reason: 'false positive' }), { ok: true });
      const events = (await eventsOf(db, ticket.id)).length;
      t.same(await reply(phone, `ACK ${code}`, new Date(NOW.getTime() + 3_600_000)), { kind: 'closed', ticket: { ticketId: ticket.id, number: ticket.number, contactName: 'Alice Admin', state: 'dismissed' } });
      t.equal((await eventsOf(db, ticket.id)).length, events, 'nothing is recorded on the closed ticket');
      t.same(await reply(phone, `ACK ${code}`, new Date(NOW.getTime() + (LATE_REPLY_DAYS * 24 + 1) * 3_600_000)), { kind: 'unknownSender' }, `not after ${LATE_REPLY_DAYS} days`);
    });

    t.test('status callbacks never go backwards; an undelivered walk SMS moves the walk on', async (t) => {
      const { ticket, sms } = await texted('sms-status');
      const status = (s: string, errorCode: number | null = null) => db.transaction().execute((trx) => applyMessageStatus(trx, sms.id, { messageSid: 'SMx', status: s, errorCode }, { ...ctx, actor: 'twilio' }));
      t.match(await status('sent'), { applied: true, ended: null });
      t.match(await status('queued'), { applied: false }, 'an older status arriving late changes nothing');
      t.equal((await storedRows(db, 'contact_attempts', { id: sms.id }))[0]!.message_status, 'sent');
      t.match(await status('undelivered', 30003), { applied: true, ended: 'undelivered' });
      const rows = await attemptsOf(db, ticket.id);
      t.match(attempt(rows, 'Alice Admin', 'sms'), { status: 'done', outcome: 'undelivered' });
      t.ok(rows.some((a) => a.who === 'Alice Admin' && a.kind === 'followup'), 'the follow-up email to Alice');
      t.ok(rows.some((a) => a.who === 'Bob Backup' && a.kind === 'call'), 'and the call to Bob');
      t.match(await status('delivered'), { applied: false }, 'nothing after a final status');
    });

    t.test('error 21610 in a status callback opts the number out and moves the walk on', async (t) => {
      const { ticket, sms } = await texted('sms-optout');
      const r = await db.transaction().execute((trx) => applyMessageStatus(trx, sms.id, { messageSid: 'SMy', status: 'failed', errorCode: 21610 }, { ...ctx, actor: 'twilio' }));
      t.match(r, { ended: 'opted-out' });
      t.ok(await isSmsOptedOut(db, ALICE_PHONE));
      t.equal((await ticketRow(db, ticket.id)).walk_position, 1);
      t.ok(await clearSmsOptOut(db, ALICE_PHONE), 'START clears it');
      t.notOk(await isSmsOptedOut(db, ALICE_PHONE));
      await recordSmsOptOut(db, ALICE_PHONE, 'STOP reply', NOW);
      await recordSmsOptOut(db, ALICE_PHONE, 'STOP reply again', NOW);
      t.same((await storedRows(db, 'sms_opt_outs', { number: ALICE_PHONE })).map((r) => r.source), ['STOP reply again'], 'one row per number');
    });
  });
}
