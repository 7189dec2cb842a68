// The voice provider's callbacks on a call attempt (calls.ts, SPEC §8): they repeat and arrive out of
// order, so a status is applied only when its SequenceNumber is newer than the stored one, a final state
// is never left, and an answering-machine result after the end of the call is ignored.
import t from 'tap';
import { markCallPlaced } from './attempts.js';
import { applyCallStatus, recordAnsweredBy } from './calls.js';
import type { CallContext } from './calls.js';
import { ENGINES, claimAllCalls, openTestDb, storedRows } from './testing.js';
import { NOW, TIMEOUT_SECONDS, attempt, attemptsOf, openTicketFor } from './tickets.fixtures.js';

const secondsAfter = (at: Date, s: number) => new Date(at.getTime() + s * 1000);
const ctx = (now: Date): CallContext => ({ now, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'twilio', destinations: [] });

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    const status = (id: string, s: { status: string; sequence: number | null }, at: Date, callSid = `CA-${id}`) =>
      db.transaction().execute((trx) => applyCallStatus(trx, id, { callSid, ...s }, ctx(at)));
    const answeredBy = (id: string, value: string, at: Date) => db.transaction().execute((trx) => recordAnsweredBy(trx, id, { answeredBy: value, callSid: `CA-${id}` }, at));
    const row = async (id: string) => (await storedRows(db, 'contact_attempts', { id }))[0]!;
    const commandsOf = (id: string) => storedRows(db, 'call_commands', { attempt_id: id });

    /** Opens a ticket and places Alice's call as a notifier would: claimed, then placed with its SID. */
    const placedCall = async (tenantId: string) => {
      const { ticket } = await openTicketFor(db, tenantId, NOW);
      const call = attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call');
      await claimAllCalls(db, { now: NOW, leaseSeconds: 30, workerId: 'worker-a' });
      await markCallPlaced(db, call.id, `CA-${call.id}`, secondsAfter(NOW, 300), NOW);
      return { ticket, call };
    };
    const callsOf = async (ticketId: string) => (await attemptsOf(db, ticketId)).filter((a) => a.kind === 'call').map((a) => [a.who, a.status, a.outcome]);

    t.test('a status is applied only when its sequence number is newer than the stored one', async (t) => {
      const { call } = await placedCall('seq-order');
      t.same(await status(call.id, { status: 'ringing', sequence: 1 }, secondsAfter(NOW, 1)), { applied: true, outcome: null });
      t.same(await status(call.id, { status: 'initiated', sequence: 0 }, secondsAfter(NOW, 2)), { applied: false, outcome: null }, 'an older callback arriving late is ignored');
      t.match(await row(call.id), { call_status: 'ringing', call_sequence: 1 });
      t.same(await status(call.id, { status: 'in-progress', sequence: 2 }, secondsAfter(NOW, 3)), { applied: true, outcome: null });
      t.same(await status(call.id, { status: 'ringing', sequence: 2 }, secondsAfter(NOW, 4)), { applied: false, outcome: null }, 'the same sequence number again is a repeat');
      t.match(await row(call.id), { status: 'placed', call_status: 'in-progress', call_sequence: 2 }, 'the call is still live');
    });

    t.test('a final status ends the call once; nothing after it leaves the final state', async (t) => {
      const { ticket, call } = await placedCall('seq-final');
      await status(call.id, { status: 'ringing', sequence: 1 }, secondsAfter(NOW, 1));
      t.same(await status(call.id, { status: 'no-answer', sequence: 3 }, secondsAfter(NOW, 30)), { applied: true, outcome: 'no-answer' });
      t.match(await row(call.id), { status: 'done', outcome: 'no-answer', call_status: 'no-answer', call_sequence: 3 });
      t.same(await callsOf(ticket.id), [['Alice Admin', 'done', 'no-answer'], ['Bob Backup', 'pending', null]], 'the walk moved on to the next contact');

      t.same(await status(call.id, { status: 'in-progress', sequence: 2 }, secondsAfter(NOW, 31)), { applied: false, outcome: null }, 'an older status arriving after the end');
      t.same(await status(call.id, { status: 'ringing', sequence: 9 }, secondsAfter(NOW, 32)), { applied: false, outcome: null }, 'a newer non-final status after the end');
      t.same(await status(call.id, { status: 'completed', sequence: 10 }, secondsAfter(NOW, 33)), { applied: false, outcome: null }, 'another final status after the end');
      t.same(await status(call.id, { status: 'ringing', sequence: null }, secondsAfter(NOW, 34)), { applied: false, outcome: null }, 'a status without a sequence number after the end');
      t.match(await row(call.id), { status: 'done', outcome: 'no-answer', call_status: 'no-answer', call_sequence: 3 }, 'the final state is kept');
      t.same(await callsOf(ticket.id), [['Alice Admin', 'done', 'no-answer'], ['Bob Backup', 'pending', null]], 'and the walk was moved on only once');
    });

    t.test('a status without a sequence number is applied while the call is live', async (t) => {
      const { call } = await placedCall('seq-none');
      t.same(await status(call.id, { status: 'ringing', sequence: null }, secondsAfter(NOW, 1)), { applied: true, outcome: null });
      t.match(await row(call.id), { call_status: 'ringing', call_sequence: null });
      t.same(await status(call.id, { status: 'busy', sequence: 4 }, secondsAfter(NOW, 2)), { applied: true, outcome: 'busy' });
    });

    t.test('an answering-machine result during the call queues the voicemail; one after the end is ignored', async (t) => {
      const live = await placedCall('amd-live');
      t.ok(await answeredBy(live.call.id, 'machine_end_beep', secondsAfter(NOW, 5)), 'recorded while live');
      t.match(await row(live.call.id), { answered_by: 'machine_end_beep' });
      t.match(await commandsOf(live.call.id), [{ command: 'voicemail', status: 'pending' }]);
      t.same(await status(live.call.id, { status: 'completed', sequence: 5 }, secondsAfter(NOW, 40)), { applied: true, outcome: 'voicemail' }, 'the machine answer makes the completed call a voicemail');

      const late = await placedCall('amd-late');
      t.same(await status(late.call.id, { status: 'completed', sequence: 5 }, secondsAfter(NOW, 40)), { applied: true, outcome: 'answered' });
      t.equal(await answeredBy(late.call.id, 'machine_end_beep', secondsAfter(NOW, 41)), null, 'a result after the end is ignored');
      t.match(await row(late.call.id), { status: 'done', outcome: 'answered', answered_by: null });
      t.same(await commandsOf(late.call.id), [], 'and queues no voicemail for a call that is over');
    });
  });
}
