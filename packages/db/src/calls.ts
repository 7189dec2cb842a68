// A call attempt follows the voice provider's callbacks with compare-and-set updates: a status is applied
// only while the attempt is live and only if its SequenceNumber is newer than the stored one, so repeated
// and out-of-order callbacks are harmless and a final state is never left.
import { LIVE_CALL_STATUSES, commandForAnsweredBy, isFinalCallStatus, outcomeOfEndedCall } from '@abuse-desk/domain';
import type { CallOutcome } from '@abuse-desk/domain';
import type { Db } from './connect.js';
import type { ContactAttempt } from './schema.js';
import { queueCallCommand } from './call-commands.js';
import { lockTicket, recordCallOutcome } from './tickets.js';
import type { CommandContext } from './tickets.js';

const LIVE = LIVE_CALL_STATUSES;

/**
 * Locks the ticket of an attempt before the attempt is touched: every ticket operation takes the ticket
 * first, then its attempts, so a callback and a notifier finishing the same call never deadlock.
 */
async function lockTicketOfAttempt(trx: Db, attemptId: string): Promise<boolean> {
  const a = await trx.selectFrom('contact_attempts').select('ticket_id').where('id', '=', attemptId).executeTakeFirst();
  return !!a && !!(await lockTicket(trx, a.ticket_id));
}

export type CallContext = Omit<CommandContext, 'reason' | 'data'>;

export const findAttempt = (db: Db, id: string) => db.selectFrom('contact_attempts').selectAll().where('id', '=', id).executeTakeFirst();

/** Applies a status callback; when the status is final, records the outcome (which moves the walk on). */
export async function applyCallStatus(
  trx: Db,
  attemptId: string,
  s: { callSid: string; status: string; sequence: number | null },
  ctx: CallContext,
): Promise<{ applied: boolean; outcome: CallOutcome | null }> {
  if (!(await lockTicketOfAttempt(trx, attemptId))) return { applied: false, outcome: null };
  let q = trx
    .updateTable('contact_attempts')
    .set((eb) => ({ call_status: s.status, call_sequence: s.sequence, provider_ref: eb.fn.coalesce('provider_ref', eb.val(s.callSid)), updated_at: ctx.now }))
    .where('id', '=', attemptId)
    .where('channel', '=', 'voice')
    .where('status', 'in', LIVE);
  if (s.sequence !== null) q = q.where((eb) => eb.or([eb('call_sequence', 'is', null), eb('call_sequence', '<', s.sequence!)]));
  const row = await q.returningAll().executeTakeFirst();
  if (!row) return { applied: false, outcome: null };
  if (!isFinalCallStatus(s.status)) return { applied: true, outcome: null };
  const outcome = outcomeOfEndedCall(s.status, row.answered_by);
  await recordCallOutcome(trx, attemptId, outcome, { ...ctx, error: null });
  return { applied: true, outcome };
}

/**
 * Records the answering-machine result of a live call and, in the same transaction, the command it calls
 * for (play the voicemail, hang up on a fax); null when the call already ended (a late result).
 */
export async function recordAnsweredBy(trx: Db, attemptId: string, r: { answeredBy: string; callSid: string }, now: Date): Promise<ContactAttempt | null> {
  if (!(await lockTicketOfAttempt(trx, attemptId))) return null;
  const row = await trx
    .updateTable('contact_attempts')
    .set((eb) => ({ answered_by: r.answeredBy, provider_ref: eb.fn.coalesce('provider_ref', eb.val(r.callSid || null)), updated_at: now }))
    .where('id', '=', attemptId)
    .where('channel', '=', 'voice')
    .where('status', 'in', LIVE)
    .returningAll()
    .executeTakeFirst();
  if (!row) return null;
  const command = commandForAnsweredBy(r.answeredBy);
  if (command) await queueCallCommand(trx, row, command, now);
  return row;
}

/**
 * A key press. The digit 1 acknowledges: the attempt ends as `acknowledged` and the ticket becomes
 * engaged (for a walk call). Returns whether this press acknowledged.
 */
export async function recordDigits(trx: Db, attemptId: string, digits: string, ctx: CallContext): Promise<{ acknowledged: boolean }> {
  if (!(await lockTicketOfAttempt(trx, attemptId))) return { acknowledged: false };
  await trx.updateTable('contact_attempts').set({ digits, updated_at: ctx.now }).where('id', '=', attemptId).where('status', 'in', LIVE).execute();
  if (digits !== '1') return { acknowledged: false };
  const r = await recordCallOutcome(trx, attemptId, 'acknowledged', { ...ctx, error: null });
  return { acknowledged: r.applied };
}
