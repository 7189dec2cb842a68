// What the counter has consumed: the next Kafka offset per partition, committed in the transaction that
// counted the verdicts before it, and the messages it could not count (dead letters).
import { sql } from 'kysely';
import type { Db } from './connect.js';

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

/**
 * The stored next offset of a partition, under a row lock held until the caller's transaction ends: the
 * lock fences a zombie consumer of the same partition, the offset says which messages are new.
 */
export async function lockStoredOffset(trx: Db, o: { groupId: string; topic: string; partition: number }): Promise<bigint> {
  const row = await trx
    .selectFrom('kafka_offsets')
    .select('next_offset')
    .where('group_id', '=', o.groupId)
    .where('topic', '=', o.topic)
    .where('partition', '=', o.partition)
    .forUpdate()
    .executeTakeFirst();
  return row ? BigInt(row.next_offset) : 0n;
}

export interface DeadLetter {
  source: string;
  topic: string | null;
  partition: number | null;
  offset: string | null;
  raw: Uint8Array;
  reason: string;
  receivedAt: Date;
}

export async function storeDeadLetters(trx: Db, letters: DeadLetter[]) {
  if (letters.length === 0) return;
  await trx
    .insertInto('dead_letters')
    .values(letters.map((d) => ({ source: d.source, topic: d.topic, partition: d.partition, offset: d.offset, raw: d.raw, reason: d.reason, received_at: d.receivedAt })))
    .execute();
}

/**
 * Deletes up to `limit` dead letters that are older than `before` or beyond the newest `keep` — so a producer
 * sending nothing but garbage fills the table to `keep` rows, not without end; the number deleted. Oldest first,
 * by id (insertion order); the age filter reads the table from its oldest row, at most `keep` rows when none is old.
 */
export async function forgetDeadLetters(db: Db, o: { before: Date; keep: number; limit: number }): Promise<number> {
  const r = await sql`delete from dead_letters where id in (
      select id from dead_letters
      where received_at < ${o.before} or id <= coalesce((select id from dead_letters order by id desc offset ${o.keep} limit 1), 0)
      order by id limit ${o.limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
