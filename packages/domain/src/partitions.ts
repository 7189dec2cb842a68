// How long counting remembers, laid out so that forgetting is dropping a whole partition, never deleting
// rows one by one. Both counting tables are range-partitioned by minute (epoch minutes):
// - verdict_seen, the dedupe keys (VERDICT_DEDUPE_WINDOW_SECONDS): a key lives under the minute it was first
//   seen; partitions are one window long, aligned to the window, and the next one is made ahead of need.
//   A key is remembered for at least the window and at most the window plus one partition.
// - counts, the per-minute aggregates (COUNTS_RETENTION_DAYS): partitions are UTC days of event time.

/** A range of minutes [from, to), in epoch minutes. */
export interface SlotRange {
  from: number;
  to: number;
}

export type PartitionedTable = 'verdict_seen' | 'counts';

const MINUTE = 60_000;
export const DAY_MINUTES = 1440;

export function slotOf(at: Date | number): number {
  return Math.floor((typeof at === 'number' ? at : at.getTime()) / MINUTE);
}

/** Dedupe partition length in minutes: the window, rounded up to whole minutes. */
export function dedupePartitionMinutes(windowSeconds: number): number {
  return Math.max(1, Math.ceil(windowSeconds / 60));
}

/**
 * The partitions to make so that every slot in `slots` has one: for a slot no existing partition holds,
 * the part of its aligned range (`length` minutes) that no existing partition covers. Partitions made
 * under another length (the window changed) stay as they are; new ones fill the gaps around them.
 */
export function partitionsToMake(existing: readonly SlotRange[], slots: readonly number[], length: number): SlotRange[] {
  const made: SlotRange[] = [];
  for (const slot of [...new Set(slots)].sort((a, b) => a - b)) {
    const all = [...existing, ...made];
    if (all.some((r) => r.from <= slot && slot < r.to)) continue;
    // The slot is in no range, so each range ends at or before it or starts after it.
    const start = Math.floor(slot / length) * length;
    const from = Math.max(start, ...all.filter((r) => r.to <= slot).map((r) => r.to));
    const to = Math.min(start + length, ...all.filter((r) => r.from > slot).map((r) => r.from));
    made.push({ from, to });
  }
  return made;
}

/** Partitions whose every minute is before `forgetBefore` (a slot): they can go whole. */
export function expiredPartitions(existing: readonly SlotRange[], forgetBefore: number): SlotRange[] {
  return existing.filter((r) => r.to <= forgetBefore).sort((a, b) => a.from - b.from);
}

/** A key first seen in slot s was seen before minute s + 1; it may be forgotten once that plus the window has passed. */
export function dedupeForgetBefore(now: Date, windowSeconds: number): number {
  return slotOf(now.getTime() - windowSeconds * 1000);
}

/** Buckets that started more than the retention ago are forgotten. */
export function countsForgetBefore(now: Date, retentionDays: number): number {
  return slotOf(now.getTime() - retentionDays * 86400_000);
}

/** The dedupe slots that must have a partition at `now`: this minute, and the next partition made ahead. */
export function dedupeSlotsAhead(now: Date, windowSeconds: number): number[] {
  const slot = slotOf(now);
  return [slot, slot + dedupePartitionMinutes(windowSeconds)];
}

// A minute before 1970 (a verdict may be dated from year 0000) is negative: "m" stands for the minus sign,
// which a table name cannot hold.
const signed = (n: number) => (n < 0 ? `m${-n}` : String(n));
const unsigned = (s: string) => (s.startsWith('m') ? -Number(s.slice(1)) : Number(s));

/** Name of a partition table: <table>_<from>_<to>. */
export function partitionName(table: PartitionedTable, r: SlotRange): string {
  return `${table}_${signed(r.from)}_${signed(r.to)}`;
}

/** The range a partition's name stands for, or null when the name is not one of ours. */
export function rangeOfPartition(table: PartitionedTable, name: string): SlotRange | null {
  const m = new RegExp(`^${table}_(m?\\d+)_(m?\\d+)$`).exec(name);
  return m ? { from: unsigned(m[1]!), to: unsigned(m[2]!) } : null;
}
