// bench/storage: what counting keeps on disk. Streams VERDICTS verdicts (default 5,000,000) from TENANTS
// tenants (default 10,000) through the counting code (countVerdicts, batches of BATCH, as the Kafka consumer
// and HTTP ingest call it) into a fresh PostgreSQL database, on a simulated clock advancing RATE verdicts
// per second (default 30,000, the rate the counter is built for), and runs the counter's partition upkeep once per simulated minute. A tenth of
// the tenants send spam from random sender addresses (the worst case for the top-sender tallies); the
// others send from three addresses of their own, 2% spam. Event times trail the clock by up to 30 s.
//
// It reports, with the commit, machine and load:
//   - the aggregates (counts partitions: per-minute counts and top senders) in bytes on disk per million
//     verdicts and per tenant-minute: what stays once the dedupe window has passed. They grow with
//     tenants × minutes, so the figure per million verdicts depends on RATE: fewer verdicts per
//     tenant-minute cost more per verdict (the per-tenant-minute figure is what to scale by);
//   - the dedupe keys at steady state (verdict_seen, window DEDUPE_WINDOW_SECONDS, default 60 s so that the
//     run passes it many times) in bytes per key, and what that gives at the default one-hour window;
//   - the pruning cost: each dropped partition's keys and the time its DROP took, lock wait included;
//   - the counting throughput of this single-connection loop, for orientation.
//
//   pnpm bench:storage     (VERDICTS=5000000 TENANTS=10000 RATE=30000 BATCH=5000 DEDUPE_WINDOW_SECONDS=60)
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { KnownTenants, connect, countVerdicts, keepPartitions, migrateToLatest } from '../../packages/db/dist/index.js';
import { sql } from 'kysely';
import { commitInfo, loadAverage, machineInfo, percentiles, writeResults } from '../lib.mjs';

const env = process.env;
const VERDICTS = Number(env.VERDICTS ?? 5_000_000);
const TENANTS = Number(env.TENANTS ?? 10_000);
const RATE = Number(env.RATE ?? 30_000);
const BATCH = Number(env.BATCH ?? 5_000);
const WINDOW = Number(env.DEDUPE_WINDOW_SECONDS ?? 60);
const SPAMMY_SHARE = 0.1;

const commit = commitInfo();
const loadAtStart = loadAverage();
const date = new Date().toISOString();
const database = await createPostgresDatabase(testDatabaseUrl(env));
const handle = await connect({ databaseUrl: database.url, poolSize: 2 });
try {
  await migrateToLatest(handle.db);
  const db = handle.db;
  const postgresVersion = (await sql`show server_version`.execute(db)).rows[0].server_version;

  // A deterministic stream: xorshift, so two runs see the same verdicts.
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const start = Date.parse('2026-11-30T00:00:00Z');
  const spammy = (t) => t % Math.round(1 / SPAMMY_SHARE) === 0;
  let produced = 0;
  let spam = 0;
  function nextBatch(n) {
    const out = [];
    for (let i = 0; i < n; i++, produced++) {
      const t = Math.floor(rand() * TENANTS);
      const now = start + (produced / RATE) * 1000;
      const bad = spammy(t) ? rand() < 0.5 : rand() < 0.02;
      if (bad) spam++;
      out.push({
        tenantId: `tenant-${t}`,
        messageId: `<${produced}.${t}@bench.example>`,
        verdict: bad ? 'spam' : 'clean',
        occurredAt: new Date(now - Math.floor(rand() * 30_000)).toISOString(),
        sender: bad && spammy(t) ? `${Math.floor(rand() * 1e9).toString(36)}@t${t}.example` : `s${Math.floor(rand() * 3)}@t${t}.example`,
        recipients: 1,
      });
    }
    return out;
  }

  const knownTenants = new KnownTenants(); // as the counter keeps one
  const ctx = (now) => ({ now, resolutionTimeoutSeconds: 3600, actor: 'bench', destinations: [], dedupeWindowSeconds: WINDOW, knownTenants });
  const drops = [];
  const batchMs = [];
  let lastUpkeepMinute = -1;
  let keysAtDrop = new Map();
  const began = performance.now();
  while (produced < VERDICTS) {
    const batch = nextBatch(Math.min(BATCH, VERDICTS - produced));
    const now = new Date(start + (produced / RATE) * 1000);
    const minute = Math.floor(now.getTime() / 60_000);
    if (minute !== lastUpkeepMinute) {
      lastUpkeepMinute = minute;
      // Keys per partition just before the upkeep, to report what each drop removed.
      const sizes = await sql`select c.relname as name, (select count(*) from verdict_seen s where s.tableoid = c.oid)::bigint as n from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'verdict_seen'::regclass`.execute(db);
      keysAtDrop = new Map(sizes.rows.map((r) => [r.name, Number(r.n)]));
      const upkeep = await keepPartitions(db, now, { dedupeWindowSeconds: WINDOW, countsRetentionDays: 30 });
      for (const d of upkeep.dropped) if (d.table === 'verdict_seen') drops.push({ name: `verdict_seen_${d.range.from}_${d.range.to}`, ms: upkeep.dropMs / upkeep.dropped.length });
    }
    const t0 = performance.now();
    const result = await db.transaction().execute((trx) => countVerdicts(trx, batch, ctx(now)));
    knownTenants.addAll(result.newTenants);
    batchMs.push(performance.now() - t0);
    if (produced % 500_000 < BATCH) console.log(`bench: ${produced.toLocaleString('en')} verdicts, ${(performance.now() - began) / 1000 | 0} s`);
  }
  const elapsed = (performance.now() - began) / 1000;
  await sql`analyze`.execute(db);
  const size = async (parent) => {
    const r = await sql`select coalesce(sum(pg_total_relation_size(relid)), 0)::bigint as bytes from pg_partition_tree(${parent}::regclass)`.execute(db);
    return Number(r.rows[0].bytes);
  };
  const countsBytes = await size('counts');
  const keysBytes = await size('verdict_seen');
  const tenantMinutes = Number((await sql`select count(*)::bigint as n from counts`.execute(db)).rows[0].n);
  const keys = Number((await sql`select count(*)::bigint as n from verdict_seen`.execute(db)).rows[0].n);
  const senderEntries = (await sql`select coalesce(max((select count(*) from jsonb_object_keys(senders))), 0)::int as most from counts`.execute(db)).rows[0].most;
  await sql`vacuum counts`.execute(db);
  const countsBytesVacuumed = await size('counts');
  const keyBytesPerKey = keys ? keysBytes / keys : null;
  const dropped = drops.map((d) => ({ ...d, keys: keysAtDrop.get(d.name) ?? null }));

  const figures = {
    verdicts: VERDICTS,
    spam,
    simulatedSeconds: VERDICTS / RATE,
    aggregates: {
      bytes: countsBytes,
      bytesAfterVacuum: countsBytesVacuumed,
      tenantMinutes,
      bytesPerTenantMinute: countsBytes / tenantMinutes,
      bytesPerMillionVerdicts: countsBytes / (VERDICTS / 1e6),
      mostSenderEntriesInOneMinute: senderEntries,
    },
    dedupe: {
      windowSeconds: WINDOW,
      keys,
      bytes: keysBytes,
      bytesPerKey: keyBytesPerKey,
      // At the default one-hour window a key is kept 1–2 hours.
      atDefaultWindow: keyBytesPerKey ? { per1000PerSecond: { min: keyBytesPerKey * 1000 * 3600, max: keyBytesPerKey * 1000 * 7200 }, per30000PerSecond: { min: keyBytesPerKey * 30000 * 3600, max: keyBytesPerKey * 30000 * 7200 } } : null,
    },
    pruning: { partitionsDropped: dropped.length, dropMs: percentiles(dropped.map((d) => d.ms)), keysPerDrop: percentiles(dropped.map((d) => d.keys ?? 0)) },
    counting: { verdictsPerSecond: VERDICTS / elapsed, batchMs: percentiles(batchMs) },
  };
  const result = {
    benchmark: 'storage',
    date,
    commit,
    machine: machineInfo({ postgres: `PostgreSQL ${postgresVersion}` }),
    load: { start: loadAtStart, end: loadAverage() },
    parameters: { VERDICTS, TENANTS, RATE, BATCH, DEDUPE_WINDOW_SECONDS: WINDOW },
    figures,
  };
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  console.log(`bench: aggregates ${mb(countsBytes)} MB for ${VERDICTS.toLocaleString('en')} verdicts = ${mb(figures.aggregates.bytesPerMillionVerdicts)} MB per million (${Math.round(figures.aggregates.bytesPerTenantMinute)} B per tenant-minute, ${tenantMinutes.toLocaleString('en')} tenant-minutes; ${mb(countsBytesVacuumed)} MB after VACUUM)`);
  console.log(`bench: dedupe ${keys.toLocaleString('en')} keys in ${mb(keysBytes)} MB = ${keyBytesPerKey?.toFixed(1)} B per key (window ${WINDOW} s)`);
  console.log(`bench: pruning ${dropped.length} partitions dropped, p50 ${figures.pruning.dropMs.p50?.toFixed(1)} ms, max ${figures.pruning.dropMs.max?.toFixed(1)} ms, p50 ${figures.pruning.keysPerDrop.p50} keys each`);
  console.log(`bench: counting ${Math.round(figures.counting.verdictsPerSecond)} verdicts/s (one connection), batch p50 ${figures.counting.batchMs.p50?.toFixed(0)} ms p99 ${figures.counting.batchMs.p99?.toFixed(0)} ms`);
  await writeResults('storage', result);
} finally {
  await handle.close();
  if (env.KEEP_DATABASE) console.log(`bench: kept the database at ${database.url}`);
  else await database.drop();
}
