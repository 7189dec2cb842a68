// Counting verdicts (SPEC §4, §5): dedupe by (tenantId, messageId), add to per-minute event-time buckets,
// and check the tenants whose bad counts grew against their policy — all in the caller's transaction, so
// a verdict is counted and its trip is decided together or not at all.
import type { Verdict } from '@abuse-desk/contracts';
import { DEFAULT_PROBATION, baselineMedian, emptyCounts, evaluatePolicy, surgeCandidate } from '@abuse-desk/domain';
import type { Trip, WindowCounts } from '@abuse-desk/domain';

/** At most this many distinct minutes per tenant and batch are checked (the latest ones). */
const MAX_WINDOWS_CHECKED = 180;
import { sql } from 'kysely';
import type { Db } from './connect.js';
import { policiesFor } from './policies.js';
import type { Evidence } from './schema.js';
import { ensureTenants, listContacts, toSnapshot } from './tenants.js';
import { openOrUpdateTicket } from './tickets.js';

const MINUTE = 60_000;
const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

export interface CountResult {
  accepted: number;
  acceptedByVerdict: Record<string, number>;
  duplicates: number;
  /** Tickets opened by this batch (numbers). */
  opened: string[];
  /** Open tickets this batch added a trip to. */
  updated: string[];
}

export interface CountContext {
  now: Date;
  resolutionTimeoutSeconds: number;
  actor: string;
}

/**
 * Counts valid verdicts inside the caller's transaction. Rows travel as one JSON parameter
 * (json_to_recordset) rather than thousands of bound values: one statement per table, whatever the batch size.
 */
export async function countVerdicts(trx: Db, verdicts: Verdict[], ctx: CountContext): Promise<CountResult> {
  if (verdicts.length === 0) return { accepted: 0, acceptedByVerdict: {}, duplicates: 0, opened: [], updated: [] };
  await ensureTenants(trx, verdicts.map((v) => v.tenantId), ctx.now);
  // Serialise counting per tenant whose bad counts may grow: two concurrent batches that cross a
  // threshold only together must not each read the window without the other's counts. Sorted, so
  // batches sharing tenants take the locks in the same order. (Kafka keys by tenant, so consumers of
  // different partitions rarely meet here.)
  const batchTenants = [...new Set(verdicts.map((v) => v.tenantId))].sort();
  const policies = await policiesFor(trx, batchTenants, ctx.now);
  const bad = new Set(verdicts.filter((v) => v.verdict !== 'clean').map((v) => v.tenantId));
  // With a surge rule, clean mail can trip too.
  const lockTenants = batchTenants.filter((t) => bad.has(t) || policies.get(t)!.surge);
  if (lockTenants.length) {
    await sql`select pg_advisory_xact_lock(hashtextextended('abuse-desk:verdicts:' || t, 0)) from unnest(${lockTenants}::text[]) as t order by t`.execute(trx);
  }

  // Sorted by key so that two batches sharing keys lock them in the same order.
  const sorted = [...verdicts].sort((a, b) => (a.tenantId === b.tenantId ? (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0) : a.tenantId < b.tenantId ? -1 : 1));
  const keys = JSON.stringify(sorted.map((v) => ({ t: v.tenantId, m: v.messageId, o: v.occurredAt, v: v.verdict, s: v.sender ?? null })));
  const inserted = await sql<{ tenant_id: string; occurred_at: Date; verdict: string }>`
    insert into verdict_keys (tenant_id, message_id, occurred_at, verdict, sender, seen_at)
    select r.t, r.m, r.o, r.v, r.s, ${ctx.now} from json_to_recordset(${keys}::json) as r(t text, m text, o timestamptz, v text, s text)
    on conflict (tenant_id, message_id) do nothing
    returning tenant_id, occurred_at, verdict`.execute(trx);
  const accepted = inserted.rows;

  const buckets = new Map<string, { t: string; b: string; spam: number; phish: number; virus: number; clean: number }>();
  const grown = new Map<string, Set<number>>(); // tenant → minute buckets that got a non-clean verdict
  const acceptedByVerdict: Record<string, number> = {};
  for (const r of accepted) {
    acceptedByVerdict[r.verdict] = (acceptedByVerdict[r.verdict] ?? 0) + 1;
    const at = new Date(r.occurred_at).getTime();
    const start = floorMinute(at);
    const key = `${r.tenant_id}\u0000${start}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { t: r.tenant_id, b: new Date(start).toISOString(), spam: 0, phish: 0, virus: 0, clean: 0 }));
    b[r.verdict as keyof WindowCounts] += 1;
    if (r.verdict !== 'clean') {
      let minutes = grown.get(r.tenant_id);
      if (!minutes) grown.set(r.tenant_id, (minutes = new Set()));
      minutes.add(start);
    }
  }
  if (buckets.size > 0) {
    const rows = [...buckets.values()].sort((a, b) => (a.t === b.t ? (a.b < b.b ? -1 : 1) : a.t < b.t ? -1 : 1));
    await sql`
      insert into counts (tenant_id, bucket_start, spam, phish, virus, clean)
      select r.t, r.b, r.spam, r.phish, r.virus, r.clean
      from json_to_recordset(${JSON.stringify(rows)}::json) as r(t text, b timestamptz, spam int, phish int, virus int, clean int)
      on conflict (tenant_id, bucket_start) do update set
        spam = counts.spam + excluded.spam, phish = counts.phish + excluded.phish,
        virus = counts.virus + excluded.virus, clean = counts.clean + excluded.clean`.execute(trx);
  }

  const result: CountResult = { accepted: accepted.length, acceptedByVerdict, duplicates: verdicts.length - accepted.length, opened: [], updated: [] };
  const newest = new Map<string, number>(); // tenant → newest minute that got any verdict
  for (const r of accepted) newest.set(r.tenant_id, Math.max(newest.get(r.tenant_id) ?? 0, floorMinute(new Date(r.occurred_at).getTime())));
  const tenants = [...newest.keys()].filter((t) => grown.has(t) || policies.get(t)!.surge).sort();
  if (tenants.length === 0) return result;
  const probation = await probationOf(trx, tenants, ctx.now);
  // Every window that ends with a minute that grew is checked: a burst must trip whether or not the same
  // batch also carries later verdicts (a consumer catching up reads hours in one batch).
  // Latest first: the evidence is the most recent window that trips. A window ending at a later bad
  // bucket (counted by an earlier or concurrent batch) also contains the new verdicts: check it too.
  const grownTenants = tenants.filter((t) => grown.has(t));
  const later = await laterBadBuckets(trx, grownTenants.map((t) => {
    const p = policies.get(t)!;
    const last = Math.max(...grown.get(t)!);
    return { tenantId: t, after: last, until: last + Math.max(p.windowSeconds, p.critical?.windowSeconds ?? 0) * 1000 };
  }));
  const ends = new Map(
    tenants.map((t) => {
      if (!grown.has(t)) return [t, [newest.get(t)!]];
      const l = later.get(t);
      return [t, [...(l !== undefined ? [l] : []), ...[...grown.get(t)!].sort((a, b) => b - a)].slice(0, MAX_WINDOWS_CHECKED)];
    }),
  );
  const windows = await windowCountsMany(
    trx,
    tenants.flatMap((tenantId) => {
      const p = policies.get(tenantId)!;
      // On probation, counting restarts at the reinstatement: earlier verdicts cannot trip again.
      const notBefore = probation.get(tenantId)?.since ?? null;
      const e = ends.get(tenantId)!;
      return [
        ...e.flatMap((end) => [
          { tenantId, kind: `spam:${end}`, ...windowBounds(end, p.windowSeconds, notBefore) },
          ...(p.critical ? [{ tenantId, kind: `critical:${end}`, ...windowBounds(end, p.critical.windowSeconds, notBefore) }] : []),
        ]),
        // The surge window ends with the newest minute of any verdict: volume counts clean mail too.
        ...(p.surge ? [{ tenantId, kind: 'surge', ...windowBounds(newest.get(tenantId)!, p.surge.windowSeconds, notBefore) }] : []),
      ];
    }),
  );
  for (const tenantId of tenants) {
    const policy = policies.get(tenantId)!;
    const onProbation = probation.get(tenantId);
    const factor = onProbation ? (policy.probation ?? DEFAULT_PROBATION).factor : null;
    let surge: { counts: WindowCounts; baseline: number } | null = null;
    if (policy.surge) {
      const counts = windows.get(`${tenantId}\u0000surge`) ?? emptyCounts();
      if (surgeCandidate(policy, counts.spam + counts.phish + counts.virus + counts.clean, factor)) {
        const first = windowBounds(newest.get(tenantId)!, policy.surge.windowSeconds).first;
        surge = { counts, baseline: await surgeBaseline(trx, tenantId, first, policy.surge.windowSeconds, policy.surge.baselineDays) };
      }
    }
    let trip: Trip | null = null;
    let end = 0;
    for (const [i, e] of ends.get(tenantId)!.entries()) {
      const critical = policy.critical ? (windows.get(`${tenantId}\u0000critical:${e}`) ?? emptyCounts()) : null;
      trip = evaluatePolicy(policy, windows.get(`${tenantId}\u0000spam:${e}`) ?? emptyCounts(), critical, { probationFactor: factor, surge: i === 0 ? surge : null });
      end = e;
      if (trip) break;
    }
    if (!trip) continue;
    const evidence = {
      ...(await buildEvidence(trx, tenantId, trip, trip.rule === 'surge' ? newest.get(tenantId)! : end, onProbation?.since ?? null)),
      ...(trip.surge ? { surge: trip.surge } : {}),
      ...(onProbation ? { probationUntil: onProbation.until.toISOString() } : {}),
    };
    const contacts = (await listContacts(trx, tenantId)).map(toSnapshot);
    const { ticket, opened } = await openOrUpdateTicket(trx, { tenantId, trip, evidence, contacts, mode: policy.mode, now: ctx.now, resolutionTimeoutSeconds: ctx.resolutionTimeoutSeconds, actor: ctx.actor });
    (opened ? result.opened : result.updated).push(ticket.number);
  }
  return result;
}

/** Tenants on probation now: since when (the reinstatement) and until when. */
async function probationOf(db: Db, tenants: string[], now: Date): Promise<Map<string, { since: Date; until: Date }>> {
  const rows = await db.selectFrom('tenants').select(['id', 'probation_since', 'probation_until']).where('id', 'in', tenants).where('probation_until', '>', now).execute();
  return new Map(rows.filter((r) => r.probation_since && r.probation_until).map((r) => [r.id, { since: r.probation_since!, until: r.probation_until! }]));
}

/** The median volume per window of `windowSeconds` over the `days` before `before`, silent windows included. */
async function surgeBaseline(db: Db, tenantId: string, before: Date, windowSeconds: number, days: number): Promise<number> {
  const from = new Date(before.getTime() - days * 86400_000);
  const rows = await sql<{ v: number }>`
    select sum(spam + phish + virus + clean)::int as v from counts
    where tenant_id = ${tenantId} and bucket_start >= ${from} and bucket_start < ${before}
    group by floor(extract(epoch from (bucket_start - ${from}::timestamptz)) / ${windowSeconds})`.execute(db);
  return baselineMedian(rows.rows.map((r) => r.v), Math.floor((days * 86400) / windowSeconds));
}

/** Per tenant, the latest bucket with spam, phish or virus counts in (after, until], if any. */
async function laterBadBuckets(db: Db, spans: { tenantId: string; after: number; until: number }[]): Promise<Map<string, number>> {
  const spec = JSON.stringify(spans.map((s) => ({ t: s.tenantId, f: new Date(s.after).toISOString(), l: new Date(s.until).toISOString() })));
  const rows = await sql<{ t: string; b: Date }>`
    select c.tenant_id as t, max(c.bucket_start) as b
    from json_to_recordset(${spec}::json) as w(t text, f timestamptz, l timestamptz)
    join counts c on c.tenant_id = w.t and c.bucket_start > w.f and c.bucket_start <= w.l
    where c.spam + c.phish + c.virus > 0
    group by c.tenant_id`.execute(db);
  return new Map(rows.rows.map((r) => [r.t, new Date(r.b).getTime()]));
}

/** Sums of many (tenant, window) pairs in one query; keyed `tenant\u0000kind`. */
async function windowCountsMany(db: Db, windows: { tenantId: string; kind: string; first: Date; last: Date }[]): Promise<Map<string, WindowCounts>> {
  const spec = JSON.stringify(windows.map((w) => ({ t: w.tenantId, k: w.kind, f: w.first.toISOString(), l: w.last.toISOString() })));
  const rows = await sql<{ t: string; k: string; spam: number; phish: number; virus: number; clean: number }>`
    select w.t, w.k, coalesce(sum(c.spam), 0)::int as spam, coalesce(sum(c.phish), 0)::int as phish,
           coalesce(sum(c.virus), 0)::int as virus, coalesce(sum(c.clean), 0)::int as clean
    from json_to_recordset(${spec}::json) as w(t text, k text, f timestamptz, l timestamptz)
    left join counts c on c.tenant_id = w.t and c.bucket_start >= w.f and c.bucket_start <= w.l
    group by w.t, w.k`.execute(db);
  return new Map(rows.rows.map((r) => [`${r.t}\u0000${r.k}`, { spam: r.spam, phish: r.phish, virus: r.virus, clean: r.clean }]));
}

/**
 * The window ending with the minute bucket of `endMs`, `seconds` long (whole minutes); on probation it
 * starts no earlier than the first whole minute after the reinstatement (`notBefore`).
 */
export function windowBounds(endMs: number, seconds: number, notBefore: Date | null = null) {
  const last = floorMinute(endMs);
  let first = last - (Math.ceil(seconds / 60) - 1) * MINUTE;
  if (notBefore) first = Math.max(first, Math.ceil(notBefore.getTime() / MINUTE) * MINUTE);
  return { first: new Date(first), last: new Date(last), end: new Date(last + MINUTE) };
}


async function buildEvidence(db: Db, tenantId: string, trip: Trip, endMs: number, notBefore: Date | null): Promise<Evidence> {
  const { first, end } = windowBounds(endMs, trip.windowSeconds, notBefore);
  // A surge is about volume: its top senders count every message.
  const kinds = trip.rule === 'virus' ? ['virus'] : trip.rule === 'surge' ? ['spam', 'phish', 'virus', 'clean'] : ['spam', 'phish'];
  let q = db
    .selectFrom('verdict_keys')
    .select(['sender', sql<number>`count(*)::int`.as('count')])
    .where('tenant_id', '=', tenantId)
    .where('verdict', 'in', kinds);
  if (trip.rule !== 'surge') q = q.where('verdict', '<>', 'clean'); // lets the partial index serve it
  const top = await q
    .where('occurred_at', '>=', first)
    .where('occurred_at', '<', end)
    .where('sender', 'is not', null)
    .groupBy('sender')
    .orderBy('count', 'desc')
    .orderBy('sender')
    .limit(10)
    .execute();
  return {
    rule: trip.rule,
    windowSeconds: trip.windowSeconds,
    windowStart: first.toISOString(),
    windowEnd: end.toISOString(),
    counts: trip.counts,
    total: trip.total,
    ratio: trip.ratio,
    thresholds: trip.thresholds,
    topSenders: top.map((r) => ({ sender: r.sender!, count: r.count })),
  };
}

/** Per-minute buckets of a tenant between two instants (SPEC §7 …/counts). */
export async function bucketsBetween(db: Db, tenantId: string, from: Date, to: Date) {
  const rows = await db
    .selectFrom('counts')
    .select(['bucket_start', 'spam', 'phish', 'virus', 'clean'])
    .where('tenant_id', '=', tenantId)
    .where('bucket_start', '>=', new Date(floorMinute(from.getTime())))
    .where('bucket_start', '<', to)
    .orderBy('bucket_start')
    .execute();
  return rows.map((r) => ({ bucketStart: r.bucket_start.toISOString(), spam: r.spam, phish: r.phish, virus: r.virus, clean: r.clean }));
}


/** Kafka offsets committed with the counts they produced: the next offset to read, per partition. */
export async function storedOffsets(db: Db, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const rows = await db.selectFrom('kafka_offsets').select(['partition', 'next_offset']).where('group_id', '=', groupId).where('topic', '=', topic).execute();
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

export async function storeOffset(trx: Db, o: { groupId: string; topic: string; partition: number; nextOffset: bigint; now: Date }) {
  const values = { next_offset: o.nextOffset.toString(), updated_at: o.now };
  await trx
    .insertInto('kafka_offsets')
    .values({ group_id: o.groupId, topic: o.topic, partition: o.partition, ...values })
    .onConflict((oc) => oc.columns(['group_id', 'topic', 'partition']).doUpdateSet(values))
    .execute();
}

/** Deletes dedupe keys older than the retention, a slice at a time; returns how many went. */
export async function pruneDedupeKeys(db: Db, olderThan: Date, limit = 10_000): Promise<number> {
  const r = await sql`delete from verdict_keys where ctid in (select ctid from verdict_keys where seen_at < ${olderThan} limit ${limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
