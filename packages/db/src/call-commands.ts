// Commands to live calls (cancel, play the voicemail, hang up), kept as rows so that they survive the
// process that decided them: the notifier claims them like any other work and records the result.
import { sql } from 'kysely';
import { backoffMs, claim } from './claim.js';
import type { ClaimOptions } from './claim.js';
import type { Db } from './connect.js';
import type { CallCommand, CallCommandKind, ContactAttempt } from './schema.js';

/** A command can wait for its call's SID (a call still being placed) this many times, then gives up. */
export const MAX_CALL_COMMAND_TRIES = 12;
/** From half a second, at most thirty seconds apart: a call being placed has its SID within seconds. */
export const CALL_COMMAND_BACKOFF = { firstMs: 500, capMs: 30_000 };

/** Queues a command for one call (idempotent: one row per attempt and command). */
export async function queueCallCommand(db: Db, attempt: Pick<ContactAttempt, 'id' | 'ticket_id'>, command: CallCommandKind, now: Date) {
  await db
    .insertInto('call_commands')
    .values({ attempt_id: attempt.id, ticket_id: attempt.ticket_id, command, due_at: now, created_at: now })
    .onConflict((oc) => oc.columns(['attempt_id', 'command']).doNothing())
    .execute();
}

export type ClaimedCallCommand = CallCommand & { attempt: ContactAttempt };

export async function claimCallCommands(db: Db, o: ClaimOptions): Promise<ClaimedCallCommand[]> {
  const rows = await claim<CallCommand>(db, {
    table: 'call_commands',
    key: ['id'],
    due: sql`status = 'pending' and due_at <= ${o.now}`,
    orderBy: 'due_at',
    limit: o.limit,
    lease: { now: o.now, seconds: o.leaseSeconds, workerId: o.workerId },
  });
  if (rows.length === 0) return [];
  const attempts = await db.selectFrom('contact_attempts').selectAll().where('id', 'in', rows.map((r) => r.attempt_id)).execute();
  const byId = new Map(attempts.map((a) => [a.id, a]));
  return rows.map((r) => ({ ...r, attempt: byId.get(r.attempt_id)! }));
}

/** Done — by the worker that holds the lease: a worker whose lease ran out (another took over) changes nothing. */
export async function markCallCommandDone(db: Db, id: string, workerId: string, now: Date, note: string | null = null) {
  await db.updateTable('call_commands').set({ status: 'done', completed_at: now, locked_by: null, locked_until: null, last_error: note }).where('id', '=', id).where('status', '=', 'pending').where('locked_by', '=', workerId).execute();
}

/**
 * Not possible yet (no SID) or the provider failed: try again later, or give up after MAX_CALL_COMMAND_TRIES.
 * `not_mine`: the lease ran out and another worker holds the command now.
 */
export async function retryCallCommand(db: Db, id: string, workerId: string, tries: number, error: string, now: Date): Promise<'retry' | 'failed' | 'not_mine'> {
  const giveUp = tries >= MAX_CALL_COMMAND_TRIES;
  const r = await db
    .updateTable('call_commands')
    .set(giveUp ? { status: 'failed', completed_at: now, last_error: error, locked_by: null, locked_until: null } : { due_at: new Date(now.getTime() + backoffMs(tries, CALL_COMMAND_BACKOFF)), last_error: error, locked_by: null, locked_until: null })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return 'not_mine';
  return giveUp ? 'failed' : 'retry';
}
