// Counting remembers by partition (issue 12): a producer's resend within the dedupe window is ignored, keys
// older than it go with their whole partition, count days older than the retention go whole, and a batch
// makes the partition it needs itself when the counter's upkeep has not run.
import type { Verdict } from '@abuse-desk/contracts';
import { slotOf } from '@abuse-desk/domain';
import { verdictBurst } from '@abuse-desk/testkit';
import t from 'tap';
import type { Db } from './connect.js';
import { bucketsBetween, countVerdicts } from './counting.js';
import { keepPartitions, listPartitions } from './partitions.js';
import { ENGINES, openTestDb } from './testing.js';

const WINDOW = 3600;
const at = (iso: string) => new Date(iso);
const count = (db: Db, batch: Verdict[], now: Date) =>
  db.transaction().execute((trx) => countVerdicts(trx, batch, { now, resolutionTimeoutSeconds: 3600, actor: 'test', destinations: [], dedupeWindowSeconds: WINDOW }));
const keep = (db: Db, now: Date) => keepPartitions(db, now, { dedupeWindowSeconds: WINDOW, countsRetentionDays: 30 });
const keysSeen = async (db: Db) => Number((await db.selectFrom('verdict_seen').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    t.test('a batch makes the dedupe and day partitions it needs; the upkeep makes the next dedupe partition and the next day ahead', async (t) => {
      const now = at('2026-11-02T10:20:00Z');
      await count(db, verdictBurst('first', 3, { at: at('2026-11-02T10:19:00Z'), verdict: 'clean' }), now);
      const have = await listPartitions(db);
      t.ok(have.verdict_seen.some((r) => r.from <= slotOf(now) && slotOf(now) < r.to), 'this minute has a dedupe partition');
      t.ok(have.counts.some((r) => r.from === slotOf(at('2026-11-02T00:00:00Z')) && r.to === slotOf(at('2026-11-03T00:00:00Z'))), 'the UTC day of the buckets has one');
      const upkeep = await keep(db, now);
      t.equal(upkeep.made, 2, 'the next hour and the next day, made ahead');
      t.ok((await listPartitions(db)).verdict_seen.some((r) => r.from === slotOf(at('2026-11-02T11:00:00Z'))));
      t.ok((await listPartitions(db)).counts.some((r) => r.from === slotOf(at('2026-11-03T00:00:00Z'))));
      t.equal((await keep(db, now)).made, 0, 'made once');
    });

    t.test("a producer's resend within the window is ignored; after the window its partition is dropped whole and the message counts again", async (t) => {
      const batch = verdictBurst('resend', 50, { at: at('2026-11-05T10:00:00Z'), verdict: 'spam' });
      t.match(await count(db, batch, at('2026-11-05T10:00:30Z')), { accepted: 50, duplicates: 0 });
      t.match(await count(db, batch, at('2026-11-05T10:59:00Z')), { accepted: 0, duplicates: 50 }, 'a minute short of the window');
      t.equal(await keysSeen(db), 53, "these 50 keys and the first test's 3");
      t.equal((await keep(db, at('2026-11-05T11:59:00Z'))).dropped.filter((d) => d.table === 'verdict_seen' && d.range.from === slotOf(at('2026-11-05T10:00:00Z'))).length, 0, 'its newest key may be from 10:59:59: kept until noon');
      const upkeep = await keep(db, at('2026-11-05T12:00:00Z'));
      t.ok(upkeep.dropped.some((d) => d.table === 'verdict_seen' && d.range.from === slotOf(at('2026-11-05T10:00:00Z'))), 'the 10:00 partition went whole');
      t.equal(await keysSeen(db), 0, 'every key older than the window went with its partition');
      t.match(await count(db, batch, at('2026-11-05T12:01:00Z')), { accepted: 50 }, 'forgotten: counted again');
      t.same((await bucketsBetween(db, 'resend', at('2026-11-05T10:00:00Z'), at('2026-11-05T10:01:00Z'))).map((b) => b.spam), [100]);
    });

    t.test('count days older than the retention are dropped whole; the newer ones stay', async (t) => {
      const now = at('2026-11-30T12:00:00Z');
      await count(db, verdictBurst('history', 4, { at: at('2026-10-30T09:00:00Z'), verdict: 'clean' }), now);
      await count(db, verdictBurst('history', 2, { at: at('2026-10-31T09:00:00Z'), verdict: 'clean' }), now);
      const upkeep = await keep(db, now);
      t.ok(upkeep.dropped.some((d) => d.table === 'counts' && d.range.from === slotOf(at('2026-10-30T00:00:00Z'))), '30 October is more than 30 days old');
      t.same((await bucketsBetween(db, 'history', at('2026-10-29T00:00:00Z'), now)).map((b) => [b.bucketStart, b.clean]), [['2026-10-31T09:00:00.000Z', 2]]);
    });

    t.test('verdicts dated at the ends of what RFC 3339 allows are counted into partitions of their own days', async (t) => {
      const now = at('2026-11-08T08:00:00Z');
      const r = await count(db, [
        { tenantId: 'edges', messageId: '<first@edges>', verdict: 'clean', occurredAt: '0001-01-01T00:00:00Z', recipients: 1 },
        { tenantId: 'edges', messageId: '<last@edges>', verdict: 'clean', occurredAt: '9999-12-31T23:59:59Z', recipients: 1 },
      ], now);
      t.match(r, { accepted: 2 });
      t.same((await bucketsBetween(db, 'edges', at('9999-12-31T00:00:00Z'), at('9999-12-31T23:59:59.999Z'))).map((b) => b.clean), [1]);
      const days = (await listPartitions(db)).counts.map((p) => p.from);
      t.ok(days.includes(slotOf(at('9999-12-31T00:00:00Z'))) && days.includes(slotOf(Date.parse('0001-01-01T00:00:00Z'))), 'both days have a partition');
    });

    t.test('two batches that need the same new partitions at once both count', { skip: engine === 'pglite' ? 'PGlite serialises transactions: no race to observe' : false }, async (t) => {
      const now = at('2026-11-07T15:00:10Z');
      const [a, b] = await Promise.all([
        count(db, verdictBurst('racer-a', 20, { at: now, verdict: 'clean' }), now),
        count(db, verdictBurst('racer-b', 20, { at: now, verdict: 'clean' }), now),
      ]);
      t.same([a.accepted, b.accepted], [20, 20]);
      const hour = (await listPartitions(db)).verdict_seen.filter((r) => r.from <= slotOf(now) && slotOf(now) < r.to);
      t.equal(hour.length, 1, 'one partition for the hour');
    });
  });
}
