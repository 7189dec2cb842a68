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
 * Deletes up to `limit` dead letters beyond the newest `keep` — by id, so at most `keep` remain (fewer when
 * ids have gaps) — and up to `limit` older than `before` (through the received_at index), oldest first: a
 * producer sending nothing but garbage fills the table to about `keep` rows, not without end. Both cost an
 * index range, never a scan of the table. The number deleted.
 */
export async function forgetDeadLetters(db: Db, o: { before: Date; keep: number; limit: number }): Promise<number> {
  const beyond = await sql`delete from dead_letters where id in (
      select id from dead_letters where id <= (select max(id) from dead_letters) - ${o.keep} order by id limit ${o.limit})`.execute(db);
  const old = await sql`delete from dead_letters where id in (
      select id from dead_letters where received_at < ${o.before} order by received_at limit ${o.limit})`.execute(db);
  return Number(beyond.numAffectedRows ?? 0) + Number(old.numAffectedRows ?? 0);
}
