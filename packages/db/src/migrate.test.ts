// Upgrading to per-minute aggregates (migration 20261130T1200) loses no count: existing buckets move into day
// partitions, the last two hours of dedupe keys become hashed keys (a resend right after the upgrade is still
// a duplicate), and the recent top senders are folded into their minutes. Going back down keeps the counts.
import { sql } from 'kysely';
import t from 'tap';
import { connect } from './connect.js';
import { countVerdicts, dedupeKey } from './counting.js';
import { migrateTo, migrateToLatest } from './migrate.js';
import { listPartitions } from './partitions.js';
import { ENGINES, createPostgresDatabase, testDatabaseUrl } from './testing.js';

const BEFORE = '20261130T0900_call_commands';
const AGGREGATES = '20261130T1200_counting_aggregates';

for (const engine of ENGINES) {
  t.test(`${engine}: upgrading keeps every count, the recent keys and the recent top senders`, async (t) => {
    const created = engine === 'postgres' ? await createPostgresDatabase(testDatabaseUrl(process.env)) : null;
    const handle = await connect(created ? { databaseUrl: created.url, poolSize: 2 } : { dataDir: 'memory://' });
    t.teardown(async () => {
      await handle.close();
      await created?.drop();
    });
    const db = handle.db as never as import('kysely').Kysely<any>;
    await migrateTo(db, BEFORE);
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000);
    await sql`insert into counts (tenant_id, bucket_start, spam, phish, virus, clean) values
      ('acme', ${minute}, 3, 0, 0, 1), ('acme', '2026-10-01T08:00:00Z', 7, 1, 0, 2), ('beta', '2026-10-02T09:30:00Z', 0, 0, 1, 0),
      ('edge', '9999-12-31T23:59:00Z', 0, 0, 0, 1), ('edge', '1969-07-20T20:17:00Z', 0, 0, 0, 1)`.execute(db);
    await sql`insert into verdict_keys (tenant_id, message_id, occurred_at, verdict, sender, seen_at) values
      ('acme', '<m1@acme>', ${minute}, 'spam', 'bulk@acme.example', now() - interval '5 minutes'),
      ('acme', '<m2@acme>', ${minute}, 'spam', 'bulk@acme.example', now() - interval '5 minutes'),
      ('acme', '<m3@acme>', ${minute}, 'spam', null, now() - interval '5 minutes'),
      ('acme', '<m4@acme>', ${minute}, 'clean', 'hello@acme.example', now() - interval '5 minutes'),
      ('acme', '<old@acme>', '2026-10-01T08:00:00Z', 'spam', 'old@acme.example', now() - interval '3 hours')`.execute(db);

    await migrateToLatest(db);
    const counts = await sql<{ tenant_id: string; bucket_start: Date; spam: number; phish: number; virus: number; clean: number; senders: unknown }>`
      select tenant_id, bucket_start, spam, phish, virus, clean, senders from counts order by bucket_start`.execute(db);
    t.same(counts.rows.map((r) => [r.tenant_id, r.spam, r.phish, r.virus, r.clean]), [['edge', 0, 0, 0, 1], ['acme', 7, 1, 0, 2], ['beta', 0, 0, 1, 0], ['acme', 3, 0, 0, 1], ['edge', 0, 0, 0, 1]], 'every bucket, unchanged, from 1969 to the last day of 9999');
    t.same(counts.rows[3]!.senders, { 'bulk@acme.example': [2, 0, 0], 'hello@acme.example': [0, 0, 1] }, "the recent minute's senders");
    t.equal((await listPartitions(handle.db)).counts.length, 5, 'one partition per day of buckets');
    const keys = await sql<{ key: string }>`select key::text from verdict_seen`.execute(db);
    t.same(keys.rows.map((r) => r.key).sort(), ['<m1@acme>', '<m2@acme>', '<m3@acme>', '<m4@acme>'].map((m) => dedupeKey('acme', m)).sort(), 'the recent keys, hashed as the counter hashes them');
    const resend = await handle.db.transaction().execute((trx) =>
      countVerdicts(trx, [{ tenantId: 'acme', messageId: '<m1@acme>', verdict: 'spam', occurredAt: minute.toISOString(), recipients: 1 }], { now: new Date(), resolutionTimeoutSeconds: 3600, actor: 'test', destinations: [], dedupeWindowSeconds: 3600 }),
    );
    t.equal(resend.duplicates, 1, 'a resend right after the upgrade is still a duplicate');

    await migrateTo(db, BEFORE);
    const back = await sql<{ n: number }>`select sum(spam + phish + virus + clean)::int as n from counts`.execute(db);
    t.equal(back.rows[0]!.n, 4 + 10 + 1 + 2, 'going back down keeps the counts');
    await migrateTo(db, AGGREGATES);
  });
}
