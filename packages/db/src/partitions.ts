// Partitions of the counting tables (verdict_seen by minute first seen, counts by UTC day): listed from the
// catalog, made when a batch needs one (or ahead of need), dropped whole when expired. Which ones is the
// domain's (partitions.ts); this only reads and changes the catalog.
import { DAY_MINUTES, countsForgetBefore, dedupeForgetBefore, dedupePartitionMinutes, dedupeSlotsAhead, expiredPartitions, partitionName, partitionsToMake, rangeOfPartition, slotOf } from '@abuse-desk/domain';
import type { PartitionedTable, SlotRange } from '@abuse-desk/domain';
import { sql } from 'kysely';
import type { Db } from './connect.js';

/**
 * A minute's counts row is updated by every batch that brings it verdicts. With room left on its page,
 * PostgreSQL rewrites it in place (a HOT update: no new index entry, and the old version is pruned on
 * the page) instead of moving it to another page and adding a new entry to the primary key.
 */
export const COUNTS_FILLFACTOR = 70;

export type PartitionMap = Record<PartitionedTable, SlotRange[]>;

/** The partitions of both counting tables, from the catalog (so every process sees the same). */
export async function listPartitions(db: Db): Promise<PartitionMap> {
  const rows = await sql<{ parent: PartitionedTable; name: string }>`
    select p.relname as parent, c.relname as name
    from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where i.inhparent in (to_regclass('verdict_seen'), to_regclass('counts'))`.execute(db);
  const out: PartitionMap = { verdict_seen: [], counts: [] };
  for (const r of rows.rows) {
    const range = rangeOfPartition(r.parent, r.name);
    if (range) out[r.parent].push(range);
  }
  return out;
}

// to_timestamp rather than an ISO literal: a verdict may be dated anywhere in years 0001–9999, and the day
// after 9999-12-31 has no ISO form PostgreSQL reads.
function bounds(table: PartitionedTable, r: SlotRange): string {
  if (table === 'verdict_seen') return `from (${r.from}) to (${r.to})`;
  return `from (to_timestamp(${r.from * 60})) to (to_timestamp(${r.to * 60}))`;
}

export interface PartitionNeeds {
  /** Dedupe slots that must have a partition, with the window that sizes new ones. */
  dedupe: { slots: number[]; windowSeconds: number };
  /** Minutes of counts buckets that must have a partition. */
  countSlots: number[];
}

/**
 * Makes the partitions `needs` asks for that do not exist yet, in the caller's transaction. Usually a
 * catalog read and nothing else; when a partition is missing, the makers take one advisory lock and
 * read again, so two processes never make the same one (nor overlapping ones).
 */
export async function ensurePartitions(trx: Db, needs: PartitionNeeds): Promise<SlotRange[]> {
  const plan = (have: PartitionMap) => [
    ...partitionsToMake(have.verdict_seen, needs.dedupe.slots, dedupePartitionMinutes(needs.dedupe.windowSeconds)).map((r) => ({ table: 'verdict_seen' as const, r })),
    ...partitionsToMake(have.counts, needs.countSlots, DAY_MINUTES).map((r) => ({ table: 'counts' as const, r })),
  ];
  if (plan(await listPartitions(trx)).length === 0) return [];
  await sql`select pg_advisory_xact_lock(hashtextextended('abuse-desk:partitions', 0))`.execute(trx);
  const missing = plan(await listPartitions(trx));
  for (const { table, r } of missing) {
    await sql.raw(`create table if not exists ${partitionName(table, r)} partition of ${table} for values ${bounds(table, r)}${table === 'counts' ? ` with (fillfactor = ${COUNTS_FILLFACTOR})` : ''}`).execute(trx);
  }
  return missing.map((t) => t.r);
}

export interface PartitionUpkeep {
  made: number;
  dropped: { table: PartitionedTable; range: SlotRange }[];
  /** How long the drops took, waiting for locks included. */
  dropMs: number;
}

/**
 * Counting's upkeep, run once a minute by the counter role: makes the next dedupe partition and the next
 * day of counts ahead of need (making one takes its table's lock until the maker commits, so no batch should
 * wait for that at the turn of the hour or of the day) and drops the dedupe partitions older than the
 * window and the count days older than the retention. Dropping a partition briefly locks its table:
 * each drop is its own transaction waiting at most a second for its lock (counting queues behind a
 * waiting drop), and a run whose drop cannot get its lock fails, is logged, and is tried again a minute later.
 */
export async function keepPartitions(db: Db, now: Date, opts: { dedupeWindowSeconds: number; countsRetentionDays: number }): Promise<PartitionUpkeep> {
  const made = await db.transaction().execute((trx) =>
    ensurePartitions(trx, { dedupe: { slots: dedupeSlotsAhead(now, opts.dedupeWindowSeconds), windowSeconds: opts.dedupeWindowSeconds }, countSlots: [slotOf(now), slotOf(now) + DAY_MINUTES] }),
  );
  const have = await listPartitions(db);
  const expired = [
    ...expiredPartitions(have.verdict_seen, dedupeForgetBefore(now, opts.dedupeWindowSeconds)).map((range) => ({ table: 'verdict_seen' as const, range })),
    ...expiredPartitions(have.counts, countsForgetBefore(now, opts.countsRetentionDays)).map((range) => ({ table: 'counts' as const, range })),
  ];
  const dropped: PartitionUpkeep['dropped'] = [];
  const started = performance.now();
  for (const e of expired) {
    await db.transaction().execute(async (trx) => {
      await sql`set local lock_timeout = '1s'`.execute(trx);
      await sql.raw(`drop table if exists ${partitionName(e.table, e.range)}`).execute(trx);
    });
    dropped.push(e);
  }
  return { made: made.length, dropped, dropMs: performance.now() - started };
}
