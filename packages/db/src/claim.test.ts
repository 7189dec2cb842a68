// Claiming due work (graphile-worker's pattern): due rows are leased to one worker at a time, rows not yet
// due wait, and a row whose worker died is taken back when its lease runs out. And the loop that drives it.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { claimDue, pollLoop } from './claim.js';
import type { Db } from './connect.js';
import type { AttemptStatus } from './schema.js';
import { upsertTenant } from './tenants.js';
import { ENGINES, openTestDb } from './testing.js';
import { openOrUpdateTicket } from './tickets.js';

const NOW = new Date('2026-11-22T10:15:00.000Z');
const secondsAfter = (at: Date, seconds: number) => new Date(at.getTime() + seconds * 1000);
const LEASE_SECONDS = 60;

/** A ticket to hang attempts on (a tenant without contacts: its walk plans no attempts of its own). */
async function ticketFor(db: Db, tenantId: string) {
  await upsertTenant(db, tenantId, { name: `${tenantId} Mail` }, NOW);
  const { ticket } = await db.transaction().execute((trx) =>
    openOrUpdateTicket(trx, {
      tenantId,
      trip: { rule: 'spam', severity: 'normal', windowSeconds: 600, counts: { spam: 60, phish: 0, virus: 0, clean: 0 }, total: 60, ratio: 1, thresholds: { minSpam: 50, minSpamRatio: 0.05 }, suspendAtOnce: false },
      evidence: { rule: 'spam', windowSeconds: 600, windowStart: NOW.toISOString(), windowEnd: NOW.toISOString(), counts: { spam: 60, phish: 0, virus: 0, clean: 0 }, total: 60, ratio: 1, thresholds: {}, topSenders: [] },
      contacts: [],
      now: NOW,
      resolutionTimeoutSeconds: 3600,
      actor: 'test',
      destinations: ['kafka', 'webhook'],
    }),
  );
  return ticket.id;
}

/** Inserts one email attempt per due time; returns their ids in the same order. */
async function addAttempts(db: Db, ticketId: string, dueAts: Date[], o: { status?: AttemptStatus; lockedUntil?: Date | null } = {}) {
  const rows = await db
    .insertInto('contact_attempts')
    .values(
      dueAts.map((dueAt, i) => ({
        ticket_id: ticketId,
        contact_id: randomUUID(),
        contact_name: `Contact ${i + 1}`,
        address: `contact${i + 1}@acme.example`,
        timezone: null,
        channel: 'email' as const,
        kind: 'followup',
        step: i,
        status: o.status ?? 'pending',
        due_at: dueAt,
        locked_until: o.lockedUntil ?? null,
        created_at: NOW,
        updated_at: NOW,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

const claim = (db: Db, workerId: string, now: Date, limit = 10) => claimDue(db, 'contact_attempts', { now, limit, leaseSeconds: LEASE_SECONDS, workerId });

const attemptRow = (db: Db, id: string) => db.selectFrom('contact_attempts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    const ticketId = await ticketFor(db, 'claims');
    // claimDue looks at the whole work table: each test starts from an empty one.
    t.beforeEach(() => db.deleteFrom('contact_attempts').execute());

    // PGlite runs one transaction at a time, so two claims there never overlap: the race is only real on
    // PostgreSQL, where each worker has its own connection.
    const serialised = engine === 'pglite' && 'PGlite serialises transactions, so the two claims cannot race there';
    t.test('two workers claiming at once never take the same row', { skip: serialised }, async (t) => {
      const ids = await addAttempts(db, ticketId, Array.from({ length: 8 }, (_, i) => secondsAfter(NOW, -60 + i)));
      // The race made certain: worker B claims while worker A's claim has run but not yet committed. B must
      // neither wait for A's rows nor take them (two claims merely started together rarely overlap).
      const { a, b } = await db.transaction().execute(async (trx) => {
        const a = await claim(trx, 'worker-a', NOW, 5);
        const pending = claim(db, 'worker-b', NOW, 5);
        const b = await Promise.race([pending, new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5000))]);
        if (b === 'waited') pending.catch(() => undefined);
        return { a, b };
      });
      if (b === 'waited') return t.fail("worker B waited for the rows worker A was claiming instead of skipping them");
      t.ok(a.length <= 5 && b.length <= 5, 'each takes at most its limit');
      const taken = [...a, ...b].map((r) => r.id);
      t.equal(new Set(taken).size, taken.length, 'no row is returned twice');
      t.same([...taken].sort(), [...ids].sort(), 'between them they take all eight');

      for (const [worker, rows] of [['worker-a', a], ['worker-b', b]] as const) {
        for (const r of rows) {
          t.match(await attemptRow(db, r.id), { status: 'dispatching', locked_by: worker, locked_until: secondsAfter(NOW, LEASE_SECONDS), tries: 1, updated_at: NOW });
          t.match(r, { previous_status: 'pending', status: 'dispatching', locked_by: worker, tries: 1 });
        }
      }
      t.same(await claim(db, 'worker-c', NOW), [], 'a third worker finds nothing left');
    });

    t.test('rows not yet due are not claimed, and the oldest due rows come first', async (t) => {
      const [oldest, older, dueNow, soon, later] = await addAttempts(db, ticketId, [secondsAfter(NOW, -120), secondsAfter(NOW, -60), NOW, secondsAfter(NOW, 1), secondsAfter(NOW, 3600)]);
      t.same((await claim(db, 'worker-a', NOW, 2)).map((r) => r.id), [oldest, older]);
      t.same((await claim(db, 'worker-a', NOW, 2)).map((r) => r.id), [dueNow], 'a row due this very instant is due');
      t.match(await attemptRow(db, soon!), { status: 'pending', tries: 0, locked_by: null });
      t.match(await attemptRow(db, later!), { status: 'pending', tries: 0, locked_by: null });
      t.same((await claim(db, 'worker-a', secondsAfter(NOW, 1))).map((r) => r.id), [soon], 'it is claimed once its time comes');
    });

    t.test('finished rows are never claimed', async (t) => {
      for (const status of ['done', 'canceled', 'failed'] as const) await addAttempts(db, ticketId, [secondsAfter(NOW, -60)], { status });
      t.same(await claim(db, 'worker-a', NOW), []);
    });

    t.test('a leased row is not claimed again before its lease runs out', async (t) => {
      const [id] = await addAttempts(db, ticketId, [secondsAfter(NOW, -1)]);
      t.equal((await claim(db, 'worker-a', NOW)).length, 1);
      t.same(await claim(db, 'worker-b', secondsAfter(NOW, 1)), []);
      t.same(await claim(db, 'worker-b', secondsAfter(NOW, LEASE_SECONDS - 1)), []);
      t.match(await attemptRow(db, id!), { locked_by: 'worker-a', tries: 1 });
    });

    t.test('a dispatching row whose lease expired is taken back, marked as such', async (t) => {
      const [id] = await addAttempts(db, ticketId, [secondsAfter(NOW, -1)]);
      await claim(db, 'worker-a', NOW);
      const later = secondsAfter(NOW, LEASE_SECONDS + 1);
      const [again, ...more] = await claim(db, 'worker-b', later);
      t.same(more, []);
      t.match(again, { id, previous_status: 'dispatching', status: 'dispatching', locked_by: 'worker-b', tries: 2 }, 'the new worker learns the send may have happened');
      t.match(await attemptRow(db, id!), { status: 'dispatching', locked_by: 'worker-b', locked_until: secondsAfter(later, LEASE_SECONDS), tries: 2 });
    });

    t.test('a placed call is claimed when its result is overdue, and stays placed', async (t) => {
      const [overdue, waiting] = await addAttempts(db, ticketId, [secondsAfter(NOW, -1), secondsAfter(NOW, 300)], { status: 'placed' });
      const claimed = await claim(db, 'worker-a', NOW);
      t.same(claimed.map((r) => [r.id, r.previous_status, r.status]), [[overdue, 'placed', 'placed']]);
      t.match(await attemptRow(db, waiting!), { status: 'placed', tries: 0, locked_by: null });
    });
  });
}

/** Resolves once `condition()` holds, checking every few milliseconds; fails after `ms`. */
async function eventually(condition: () => boolean, ms = 2000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

t.test('pollLoop', async (t) => {
  t.test('ticks again and again until stopped, then never again', async (t) => {
    let ticks = 0;
    const loop = pollLoop({ name: 'test', idleMs: 1, tick: async () => {
        ticks += 1;
        return 0;
      }, onError: (err) => t.fail(String(err)) });
    await eventually(() => ticks >= 3);
    await loop.stop();
    const stoppedAt = ticks;
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(ticks, stoppedAt, 'no tick after stop() resolved');
  });

  t.test('a tick that throws is reported through onError and the loop goes on', async (t) => {
    const errors: unknown[] = [];
    let ticks = 0;
    const loop = pollLoop({
      name: 'test',
      idleMs: 1,
      tick: async () => {
        ticks += 1;
        if (ticks === 1) throw new Error('database is down');
        return 0;
      },
      onError: (err) => errors.push(err),
    });
    await eventually(() => ticks >= 3);
    await loop.stop();
    t.equal(errors.length, 1);
    t.match(errors[0], { message: 'database is down' });
  });

  t.test('a nudge that comes while a tick runs is not lost', async (t) => {
    let ticks = 0;
    const loop = pollLoop({
      name: 'test',
      idleMs: 60_000,
      tick: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        ticks += 1;
        // Work queued by this process after the tick's claim query ran: the caller nudges the loop.
        if (ticks === 1) loop.nudge();
        return 0;
      },
      onError: (err) => t.fail(String(err)),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.equal(ticks, 2, 'the nudge brought a second tick at once, not after idleMs');
    await loop.stop();
  });

  t.test('while ticks report work the loop runs again at once; idle, it waits until nudged or stopped', async (t) => {
    let ticks = 0;
    const loop = pollLoop({ name: 'test', idleMs: 60_000, tick: async () => (++ticks <= 3 ? 1 : 0), onError: (err) => t.fail(String(err)) });
    await eventually(() => ticks === 4);
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(ticks, 4, 'three ticks with work, then one that found none, then it waits');
    loop.nudge();
    await eventually(() => ticks === 5);
    const started = Date.now();
    await loop.stop();
    t.ok(Date.now() - started < 1000, 'stop() wakes an idle loop instead of waiting out idleMs');
  });
});
