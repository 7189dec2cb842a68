// Call pacing and protected numbers (pacing.ts, issue 14): call slots shared through the database (a slot
// rests a second after a call, comes back when its holder's lease runs out), the most urgent call first,
// and a number called at most `perHour` times however many notifiers decide at once.
import { randomUUID } from 'node:crypto';
import { contactList, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { claimDue } from './claim.js';
import { callQueueStats, claimNextCall, ensureCallSlots, releaseCallSlot, reserveNumber, takeCallSlot } from './pacing.js';
import type { SlotTake } from './pacing.js';
import type { AttemptStatus } from './schema.js';
import { ENGINES, claimAllCalls, openTestDb, storedRows } from './testing.js';
import { NOW, attempt, attemptsOf, minutesAfter, openTicketFor } from './tickets.fixtures.js';

const LEASE_SECONDS = 30;
const secondsAfter = (at: Date, s: number) => new Date(at.getTime() + s * 1000);
const claimOptions = (now: Date, workerId = 'worker-a') => ({ now, leaseSeconds: LEASE_SECONDS, workerId });

/** A contact list without the TAM: a new ticket's only attempt is the call to Alice. */
const ALICE_AND_BOB = contactList({ tam: null });

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    const slots = async () => (await storedRows(db, 'call_slots', {}, 'slot')).map((s) => ({ slot: s.slot, lockedBy: s.locked_by, calls: Number(s.calls) }));
    const take = (workerId: string, leaseSeconds = 60) => takeCallSlot(db, { workerId, leaseSeconds });
    /** Polls until the worker takes a slot (slot times are the database's clock, so real time must pass). */
    const takeWhenFree = (workerId: string, leaseSeconds = 60) =>
      waitUntil(async () => {
        const r = await take(workerId, leaseSeconds);
        return r.taken ? r : false;
      }, { timeoutMs: 10_000, intervalMs: 20, message: `${workerId} takes a call slot` });
    const takenSlot = (r: SlotTake) => (r.taken ? r.slot : -1);

    /** A ticket to hang attempts on (a tenant without contacts plans none of its own). */
    const ticketFor = async (tenantId: string) => (await openTicketFor(db, tenantId, NOW, [])).ticket.id;

    /** Inserts attempts of a ticket (voice unless said otherwise); returns their ids in the same order. */
    const addAttempts = async (ticketId: string, specs: { address: string; dueAt?: Date; channel?: 'voice' | 'email' | 'sms'; status?: AttemptStatus }[]) => {
      const rows = await db
        .insertInto('contact_attempts')
        .values(
          specs.map((s, i) => ({
            ticket_id: ticketId,
            contact_id: randomUUID(),
            contact_name: `Contact ${i + 1}`,
            address: s.address,
            timezone: null,
            channel: s.channel ?? 'voice',
            kind: s.channel === 'email' ? 'followup' : s.channel === 'sms' ? 'sms' : 'call',
            step: 0,
            status: s.status ?? 'pending',
            due_at: s.dueAt ?? NOW,
            created_at: NOW,
            updated_at: NOW,
          })),
        )
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    };
    const row = async (id: string) => (await storedRows(db, 'contact_attempts', { id }))[0]!;

    // Calls are claimed from the whole table and slots are one shared set: each test starts from none.
    t.beforeEach(async () => {
      await db.deleteFrom('contact_attempts').execute();
      await db.deleteFrom('call_slots').execute();
    });

    t.test('ensureCallSlots makes one slot per call a second, and a new rate resizes the set', async (t) => {
      await ensureCallSlots(db, 2);
      t.same((await slots()).map((s) => s.slot), [0, 1]);
      await ensureCallSlots(db, 3);
      t.same((await slots()).map((s) => s.slot), [0, 1, 2]);
      await ensureCallSlots(db, 1);
      t.same((await slots()).map((s) => s.slot), [0]);
      await ensureCallSlots(db, 1);
      t.same((await slots()).map((s) => s.slot), [0], 'the same rate again changes nothing');
    });

    t.test('two workers take the two slots; a third is told to wait while their leases run', async (t) => {
      await ensureCallSlots(db, 2);
      const a = await take('notifier-a');
      const b = await take('notifier-b');
      t.ok(a.taken && b.taken, 'both take a slot');
      t.same([takenSlot(a), takenSlot(b)].sort(), [0, 1], 'different slots');
      t.same(await slots(), [
        { slot: 0, lockedBy: takenSlot(a) === 0 ? 'notifier-a' : 'notifier-b', calls: 0 },
        { slot: 1, lockedBy: takenSlot(a) === 1 ? 'notifier-a' : 'notifier-b', calls: 0 },
      ]);
      const c = await take('notifier-c');
      t.equal(c.taken, false, 'no slot is free');
      t.ok(!c.taken && c.waitMs > 0 && c.waitMs <= 60_000, `it waits until a lease runs out (${!c.taken && c.waitMs} ms)`);
    });

    t.test('of workers taking slots at once, as many get one as there are slots, each a different one', async (t) => {
      await ensureCallSlots(db, 2);
      const takes = await Promise.all(Array.from({ length: 8 }, (_, i) => take(`notifier-${i}`)));
      t.same(takes.filter((r) => r.taken).map(takenSlot).sort(), [0, 1], 'two are taken, each once');
      t.same(
        (await slots()).map((s) => s.lockedBy).sort(),
        takes.flatMap((r, i) => (r.taken ? [`notifier-${i}`] : [])).sort(),
        'each held by the worker told it took it',
      );
    });

    t.test('a slot given back unused is takeable again at once, and the call is not counted', async (t) => {
      await ensureCallSlots(db, 2);
      const a = await take('notifier-a');
      await take('notifier-b');
      await releaseCallSlot(db, takenSlot(a), 'notifier-a', false);
      const c = await take('notifier-c');
      t.same(c, { taken: true, slot: takenSlot(a) });
      t.same((await slots()).find((s) => s.slot === takenSlot(a)), { slot: takenSlot(a), lockedBy: 'notifier-c', calls: 0 });
    });

    t.test('a slot given back after a call rests for about a second, then is takeable again; only that call is counted', async (t) => {
      await ensureCallSlots(db, 2);
      const a = await take('notifier-a');
      await take('notifier-b');
      const releasedAt = Date.now();
      await releaseCallSlot(db, takenSlot(a), 'notifier-a', true);
      t.same((await slots()).find((s) => s.slot === takenSlot(a)), { slot: takenSlot(a), lockedBy: null, calls: 1 }, 'given back and counted');

      const resting = await take('notifier-c');
      t.equal(resting.taken, false, 'not takeable right after the call');
      t.ok(!resting.taken && resting.waitMs > 0 && resting.waitMs <= 1000, `told to wait at most a second (${!resting.taken && resting.waitMs} ms)`);

      const again = await takeWhenFree('notifier-c');
      t.equal(again.slot, takenSlot(a), 'the rested slot comes back (the other is still held)');
      t.ok(Date.now() - releasedAt >= 990, `not before a second has passed (${Date.now() - releasedAt} ms)`);

      await releaseCallSlot(db, again.slot, 'notifier-c', false);
      t.same((await slots()).find((s) => s.slot === takenSlot(a))!.calls, 1, 'an unused release does not count');
    });

    t.test('a release by a worker that does not hold the slot changes nothing', async (t) => {
      await ensureCallSlots(db, 1);
      await take('notifier-a');
      const before = await storedRows(db, 'call_slots');
      await releaseCallSlot(db, 0, 'notifier-b', true);
      t.same(await storedRows(db, 'call_slots'), before);
      t.equal((await take('notifier-b')).taken, false, 'the slot is still held');
    });

    t.test('a slot whose holder died is taken by another worker when its lease runs out; the late release changes nothing', async (t) => {
      await ensureCallSlots(db, 1);
      t.same(await take('notifier-dead', 1), { taken: true, slot: 0 });
      const early = await take('notifier-b');
      t.ok(!early.taken && early.waitMs > 0 && early.waitMs <= 1000, 'while the lease runs the slot is not free');

      const taken = await takeWhenFree('notifier-b');
      t.same(taken, { taken: true, slot: 0 }, 'the queue does not stall on a dead holder');
      const before = await storedRows(db, 'call_slots');
      t.match(before, [{ slot: 0, locked_by: 'notifier-b' }]);

      await releaseCallSlot(db, 0, 'notifier-dead', true);
      t.same(await storedRows(db, 'call_slots'), before, 'still held by the new worker, nothing counted');
    });

    /** A ticket whose only attempt is the call to Alice, opened at `openedAt` and queued at `dueAt`. */
    const queuedCall = async (tenantId: string, o: { openedAt: Date; dueAt: Date; severity?: 'normal' | 'critical' | 'repeat' }) => {
      const { ticket } = await openTicketFor(db, tenantId, o.openedAt, ALICE_AND_BOB);
      if (o.severity) await db.updateTable('tickets').set({ severity: o.severity }).where('id', '=', ticket.id).execute();
      const call = attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call');
      await db.updateTable('contact_attempts').set({ due_at: o.dueAt }).where('id', '=', call.id).execute();
      return call.id;
    };

    t.test('calls are claimed critical and repeat tickets first, then the ticket opened earliest', async (t) => {
      // Queue order (due_at) is the opposite of ticket order here, so only the ticket can explain the result.
      const later = await queuedCall('rank-later', { openedAt: minutesAfter(NOW, -10), dueAt: minutesAfter(NOW, -5) });
      const critical = await queuedCall('rank-critical', { openedAt: NOW, dueAt: NOW, severity: 'critical' });
      const earlier = await queuedCall('rank-earlier', { openedAt: minutesAfter(NOW, -20), dueAt: minutesAfter(NOW, -1) });
      const repeat = await queuedCall('rank-repeat', { openedAt: minutesAfter(NOW, -2), dueAt: NOW, severity: 'repeat' });
      const claimed = await claimAllCalls(db, claimOptions(NOW));
      t.same(claimed.map((c) => c.id), [repeat, critical, earlier, later]);
    });

    t.test("every tenant's first contact is called before anyone's second, whatever the tickets' age", async (t) => {
      const older = await queuedCall('step-older', { openedAt: minutesAfter(NOW, -30), dueAt: minutesAfter(NOW, -30) });
      // The older ticket's walk is at its second contact (Bob); the newer one's at its first.
      await db.updateTable('contact_attempts').set({ step: 1 }).where('id', '=', older).execute();
      const newer = await queuedCall('step-newer', { openedAt: NOW, dueAt: NOW });
      const critical = await queuedCall('step-critical', { openedAt: NOW, dueAt: NOW, severity: 'critical' });
      await db.updateTable('contact_attempts').set({ step: 1 }).where('id', '=', critical).execute();
      const claimed = await claimAllCalls(db, claimOptions(NOW));
      t.same(claimed.map((c) => c.id), [critical, newer, older], 'severity first, then the walk step, then the ticket age');
    });

    t.test('only voice attempts waiting to be placed and due are claimed', async (t) => {
      const ticketId = await ticketFor('due-calls');
      const [due, soon, email, placed, held] = await addAttempts(ticketId, [
        { address: '+14155551001', dueAt: secondsAfter(NOW, -1) },
        { address: '+14155551002', dueAt: secondsAfter(NOW, 60) },
        { address: 'ops@due-calls.example', dueAt: secondsAfter(NOW, -1), channel: 'email' },
        { address: '+14155551003', dueAt: secondsAfter(NOW, -1), status: 'placed' },
        { address: '+14155551004', dueAt: secondsAfter(NOW, -1), status: 'held' },
      ]);
      t.same((await claimAllCalls(db, claimOptions(NOW))).map((c) => c.id), [due]);
      for (const [what, id, status] of [['the future call', soon, 'pending'], ['the email', email, 'pending'], ['the placed call', placed, 'placed'], ['the held call', held, 'held']] as const) {
        t.match(await row(id!), { status, locked_by: null, tries: 0 }, `${what} is left as it was`);
      }
      t.same((await claimAllCalls(db, claimOptions(secondsAfter(NOW, 60)))).map((c) => c.id), [soon], 'the future call once its time comes');
    });

    t.test('the claimed call is dispatching with previous_status pending, leased to its worker', async (t) => {
      const id = await queuedCall('claimed-call', { openedAt: NOW, dueAt: NOW });
      const claimed = await claimNextCall(db, claimOptions(secondsAfter(NOW, 1)));
      const leased = { id, status: 'dispatching', locked_by: 'worker-a', locked_until: secondsAfter(NOW, 1 + LEASE_SECONDS), tries: 1, updated_at: secondsAfter(NOW, 1) };
      t.match(claimed, { ...leased, previous_status: 'pending' });
      t.match(await row(id), leased);
    });

    t.test('a second worker does not get the call the first one claimed', async (t) => {
      const first = await queuedCall('second-worker-1', { openedAt: minutesAfter(NOW, -2), dueAt: NOW });
      const second = await queuedCall('second-worker-2', { openedAt: minutesAfter(NOW, -1), dueAt: NOW });
      t.match(await claimNextCall(db, claimOptions(NOW, 'worker-a')), { id: first });
      t.match(await claimNextCall(db, claimOptions(NOW, 'worker-b')), { id: second });
      t.equal(await claimNextCall(db, claimOptions(NOW, 'worker-c')), undefined, 'none is left');
      t.match(await row(first), { locked_by: 'worker-a', tries: 1 });
    });

    // PGlite runs one transaction at a time, so two claims there never overlap (as in claim.test.ts).
    const serialised = engine === 'pglite' && 'PGlite serialises transactions, so the two claims cannot race there';
    t.test('a worker claiming while another claim is not yet committed takes the next call, without waiting', { skip: serialised }, async (t) => {
      const first = await queuedCall('race-1', { openedAt: minutesAfter(NOW, -2), dueAt: NOW });
      const second = await queuedCall('race-2', { openedAt: minutesAfter(NOW, -1), dueAt: NOW });
      const { a, b } = await db.transaction().execute(async (trx) => {
        const a = await claimNextCall(trx, claimOptions(NOW, 'worker-a'));
        const pending = claimNextCall(db, claimOptions(NOW, 'worker-b'));
        const b = await Promise.race([pending, new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5000))]);
        if (b === 'waited') pending.catch(() => undefined);
        return { a, b };
      });
      if (b === 'waited') return t.fail('worker B waited for the call worker A was claiming instead of skipping it');
      t.same([a?.id, b?.id], [first, second]);
    });

    t.test('claimDue leaves calls waiting to be placed to claimNextCall, and still claims due emails', async (t) => {
      const { ticket } = await openTicketFor(db, 'claim-due', NOW);
      const attempts = await attemptsOf(db, ticket.id);
      const call = attempt(attempts, 'Alice Admin', 'call');
      const briefing = attempt(attempts, 'Tara TAM', 'tam_briefing');
      const claimed = await claimDue(db, 'contact_attempts', { ...claimOptions(NOW), limit: 10 });
      t.same(claimed.map((a) => [a.id, a.previous_status, a.status]), [[briefing.id, 'pending', 'dispatching']]);
      t.match(await row(call.id), { status: 'pending', locked_by: null, tries: 0 });
      t.match(await claimNextCall(db, claimOptions(NOW)), { id: call.id });
    });

    t.test('a number is called at most perHour times in an hour, across tickets; other numbers are not affected', async (t) => {
      const number = '+14155552001';
      const [first, third] = await addAttempts(await ticketFor('number-a'), [{ address: number }, { address: number }]);
      const [second, other] = await addAttempts(await ticketFor('number-b'), [{ address: number }, { address: '+14155552002' }]);
      t.same(await reserveNumber(db, first!, number, 2, NOW), { ok: true });
      t.same(await reserveNumber(db, second!, number, 2, NOW), { ok: true }, 'a call of another ticket to the same number');
      t.match(await row(first!), { placed_at: NOW });
      t.match(await row(second!), { placed_at: NOW });

      t.same(await reserveNumber(db, third!, number, 2, secondsAfter(NOW, 20)), { ok: false, inLastHour: 2 });
      t.match(await row(third!), { placed_at: null }, 'a refused call is not stamped');
      t.same(await reserveNumber(db, other!, '+14155552002', 2, secondsAfter(NOW, 20)), { ok: true }, 'another number has its own allowance');

      t.same(await reserveNumber(db, third!, number, 2, secondsAfter(NOW, 3599)), { ok: false, inLastHour: 2 }, 'still refused a second before the hour is over');
      t.match(await row(third!), { placed_at: null });
      t.same(await reserveNumber(db, third!, number, 2, secondsAfter(NOW, 3601)), { ok: true }, 'an hour and a second later it is called again');
      t.match(await row(third!), { placed_at: secondsAfter(NOW, 3601) });
    });

    t.test('SMS to a number and calls to it have separate hourly allowances', async (t) => {
      const number = '+14155552101';
      const [call1, call2, sms1, sms2, sms3] = await addAttempts(await ticketFor('number-sms'), [
        { address: number },
        { address: number },
        { address: number, channel: 'sms' },
        { address: number, channel: 'sms' },
        { address: number, channel: 'sms' },
      ]);
      t.same(await reserveNumber(db, call1!, number, 2, NOW), { ok: true });
      t.same(await reserveNumber(db, call2!, number, 2, NOW), { ok: true });
      t.same(await reserveNumber(db, sms1!, number, 2, NOW, 'sms'), { ok: true }, 'two calls do not use up the SMS allowance');
      t.same(await reserveNumber(db, sms2!, number, 2, NOW, 'sms'), { ok: true });
      t.same(await reserveNumber(db, sms3!, number, 2, secondsAfter(NOW, 60), 'sms'), { ok: false, inLastHour: 2 }, 'the third SMS in the hour is refused');
      t.match(await row(sms3!), { placed_at: null }, 'and not stamped');
      const [call3] = await addAttempts(await ticketFor('number-sms-call'), [{ address: number }]);
      t.same(await reserveNumber(db, call3!, number, 3, secondsAfter(NOW, 60)), { ok: true }, 'nor do two SMS use up the call allowance (two calls of three)');
      t.same(await reserveNumber(db, sms3!, number, 2, secondsAfter(NOW, 3601), 'sms'), { ok: true }, 'an hour later it may go');
    });

    t.test('reservations made at once for one number let exactly perHour calls through', async (t) => {
      const number = '+14155553001';
      const ids = await addAttempts(await ticketFor('number-race'), Array.from({ length: 6 }, () => ({ address: number })));
      const results = await Promise.all(ids.map((id) => reserveNumber(db, id, number, 2, NOW)));
      t.equal(results.filter((r) => r.ok).length, 2, 'two are let through');
      t.same(results.filter((r) => !r.ok), Array.from({ length: 4 }, () => ({ ok: false, inLastHour: 2 })), 'the others see both');
      const stamped = (await storedRows(db, 'contact_attempts', { address: number })).filter((a) => a.placed_at !== null);
      t.same(stamped.map((a) => a.id).sort(), ids.filter((_, i) => results[i]!.ok).sort(), 'exactly the calls let through are stamped');
    });

    t.test('the call queue counts the calls due and waiting to be placed, and the age of the oldest', async (t) => {
      t.same(await callQueueStats(db, NOW), { length: 0, oldestAgeSeconds: 0 }, 'empty');
      await addAttempts(await ticketFor('queue-stats'), [
        { address: '+14155554001', dueAt: secondsAfter(NOW, -90) },
        { address: '+14155554002', dueAt: secondsAfter(NOW, -30) },
        { address: '+14155554003', dueAt: secondsAfter(NOW, 60) },
        { address: 'ops@queue-stats.example', dueAt: secondsAfter(NOW, -300), channel: 'email' },
        { address: '+14155554004', dueAt: secondsAfter(NOW, -600), status: 'dispatching' },
        { address: '+14155554005', dueAt: secondsAfter(NOW, -600), status: 'held' },
      ]);
      t.same(await callQueueStats(db, NOW), { length: 2, oldestAgeSeconds: 90 });
      t.same(await callQueueStats(db, secondsAfter(NOW, 60)), { length: 3, oldestAgeSeconds: 150 }, 'a minute later the future call waits too');
    });
  });
}
