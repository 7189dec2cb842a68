// Counting verdicts (SPEC §4, §5): dedupe by (tenantId, messageId), add to per-minute event-time buckets,
// and check the tenants whose bad counts grew against their policy — all in the caller's transaction, so
// a verdict is counted and its trip is decided together or not at all.
import type { Policy, Verdict } from '@abuse-desk/contracts';
import { evaluatePolicy } from '@abuse-desk/domain';
import type { Trip, WindowCounts } from '@abuse-desk/domain';
import { sql } from 'kysely';
import type { Db } from './connect.js';
import { policiesFor } from './policies.js';
import type { Evidence } from './schema.js';
import { ensureTenants, listContacts, toSnapshot } from './tenants.js';
import { openOrUpdateTicket } from './tickets.js';

const MINUTE = 60_000;
const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
// Postgres takes at most 65535 parameters a statement; verdict rows use 5.
const CHUNK = 5000;

export interface CountResult {
  accepted: number;
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

/** Counts valid verdicts inside the caller's transaction. */
export async function countVerdicts(trx: Db, verdicts: Verdict[], ctx: CountContext): Promise<CountResult> {
  if (verdicts.length === 0) return { accepted: 0, duplicates: 0, opened: [], updated: [] };
  await ensureTenants(trx, verdicts.map((v) => v.tenantId), ctx.now);

  // Sorted by key so that two batches sharing keys lock them in the same order.
  const sorted = [...verdicts].sort((a, b) => (a.tenantId === b.tenantId ? (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0) : a.tenantId < b.tenantId ? -1 : 1));
  const accepted: { tenant_id: string; occurred_at: Date; verdict: string }[] = [];
  for (let i = 0; i < sorted.length; i += CHUNK) {
    const rows = await trx
      .insertInto('verdict_keys')
      .values(
        sorted.slice(i, i + CHUNK).map((v) => ({
          tenant_id: v.tenantId,
          message_id: v.messageId,
          occurred_at: new Date(v.occurredAt),
          verdict: v.verdict,
          sender: v.sender ?? null,
          seen_at: ctx.now,
        })),
      )
      .onConflict((oc) => oc.columns(['tenant_id', 'message_id']).doNothing())
      .returning(['tenant_id', 'occurred_at', 'verdict'])
      .execute();
    accepted.push(...rows);
  }

  const buckets = new Map<string, { tenant_id: string; bucket_start: Date; spam: number; phish: number; virus: number; clean: number }>();
  const grown = new Map<string, number>(); // tenant → latest event time of a non-clean verdict
  for (const r of accepted) {
    const start = floorMinute(r.occurred_at.getTime());
    const key = `${r.tenant_id}\u0000${start}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { tenant_id: r.tenant_id, bucket_start: new Date(start), spam: 0, phish: 0, virus: 0, clean: 0 }));
    b[r.verdict as keyof WindowCounts] += 1;
    if (r.verdict !== 'clean') grown.set(r.tenant_id, Math.max(grown.get(r.tenant_id) ?? 0, r.occurred_at.getTime()));
  }
  const bucketRows = [...buckets.values()].sort((a, b) => (a.tenant_id === b.tenant_id ? a.bucket_start.getTime() - b.bucket_start.getTime() : a.tenant_id < b.tenant_id ? -1 : 1));
  for (let i = 0; i < bucketRows.length; i += CHUNK) {
    await trx
      .insertInto('counts')
      .values(bucketRows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'bucket_start']).doUpdateSet({
          spam: sql<number>`counts.spam + excluded.spam`,
          phish: sql<number>`counts.phish + excluded.phish`,
          virus: sql<number>`counts.virus + excluded.virus`,
          clean: sql<number>`counts.clean + excluded.clean`,
        }),
      )
      .execute();
  }

  const result: CountResult = { accepted: accepted.length, duplicates: verdicts.length - accepted.length, opened: [], updated: [] };
  if (grown.size === 0) return result;
  const tenants = [...grown.keys()].sort();
  const policies = await policiesFor(trx, tenants, ctx.now);
  for (const tenantId of tenants) {
    const policy = policies.get(tenantId)!;
    const end = grown.get(tenantId)!;
    const trip = await checkTenant(trx, tenantId, policy, end);
    if (!trip) continue;
    const evidence = await buildEvidence(trx, tenantId, trip, end);
    const contacts = (await listContacts(trx, tenantId)).map(toSnapshot);
    const { ticket, opened } = await openOrUpdateTicket(trx, { tenantId, trip, evidence, contacts, now: ctx.now, resolutionTimeoutSeconds: ctx.resolutionTimeoutSeconds, actor: ctx.actor });
    (opened ? result.opened : result.updated).push(ticket.number);
  }
  return result;
}

/** The window ending with the minute bucket of `endMs`, `seconds` long (whole minutes). */
export function windowBounds(endMs: number, seconds: number) {
  const last = floorMinute(endMs);
  const first = last - (Math.ceil(seconds / 60) - 1) * MINUTE;
  return { first: new Date(first), last: new Date(last), end: new Date(last + MINUTE) };
}

export async function windowCounts(db: Db, tenantId: string, endMs: number, seconds: number): Promise<WindowCounts> {
  const { first, last } = windowBounds(endMs, seconds);
  const row = await db
    .selectFrom('counts')
    .select([
      sql<number>`coalesce(sum(spam), 0)::int`.as('spam'),
      sql<number>`coalesce(sum(phish), 0)::int`.as('phish'),
      sql<number>`coalesce(sum(virus), 0)::int`.as('virus'),
      sql<number>`coalesce(sum(clean), 0)::int`.as('clean'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('bucket_start', '>=', first)
    .where('bucket_start', '<=', last)
    .executeTakeFirstOrThrow();
  return row;
}

async function checkTenant(db: Db, tenantId: string, policy: Policy, endMs: number): Promise<Trip | null> {
  const spamWindow = await windowCounts(db, tenantId, endMs, policy.windowSeconds);
  const criticalWindow = policy.critical ? await windowCounts(db, tenantId, endMs, policy.critical.windowSeconds) : null;
  return evaluatePolicy(policy, spamWindow, criticalWindow);
}

async function buildEvidence(db: Db, tenantId: string, trip: Trip, endMs: number): Promise<Evidence> {
  const { first, end } = windowBounds(endMs, trip.windowSeconds);
  const kinds = trip.rule === 'virus' ? ['virus'] : ['spam', 'phish'];
  const top = await db
    .selectFrom('verdict_keys')
    .select(['sender', sql<number>`count(*)::int`.as('count')])
    .where('tenant_id', '=', tenantId)
    .where('verdict', 'in', kinds)
    .where('verdict', '<>', 'clean')
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

export async function storeDeadLetter(db: Db, d: { source: string; raw: Uint8Array; reason: string; topic?: string | null; partition?: number | null; offset?: string | null; now: Date }) {
  await db
    .insertInto('dead_letters')
    .values({ source: d.source, raw: d.raw.subarray(0, 64 * 1024), reason: d.reason, topic: d.topic ?? null, partition: d.partition ?? null, offset: d.offset ?? null, received_at: d.now })
    .execute();
}
