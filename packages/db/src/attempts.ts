// Contact attempts after they are claimed: the outcomes a notifier records. Each update is a
// compare-and-set on the attempt's status, so a late or repeated write changes nothing.
import { backoffMs } from './claim.js';
import type { ExpressionBuilder } from 'kysely';
import type { Db } from './connect.js';
import type { ContactAttempt, Database, Ticket } from './schema.js';
import { hashToken, newSecret } from './tokens.js';

export const MAX_EMAIL_TRIES = 10;
/** From four seconds, at most ten minutes apart. */
export const EMAIL_BACKOFF = { firstMs: 4000, capMs: 600_000 };

export async function markEmailSent(db: Db, id: string, providerRef: string, now: Date) {
  await db
    .updateTable('contact_attempts')
    .set({ status: 'done', outcome: 'sent', provider_ref: providerRef, completed_at: now, updated_at: now, locked_by: null, locked_until: null, last_error: null })
    .where('id', '=', id)
    .where('status', '=', 'dispatching')
    .execute();
}

/** An email the server refused or could not take: try again later with backoff, or give up after MAX_EMAIL_TRIES. */
export async function markEmailFailed(db: Db, id: string, tries: number, error: string, now: Date): Promise<'retry' | 'failed'> {
  const giveUp = tries >= MAX_EMAIL_TRIES;
  const delayMs = backoffMs(tries, EMAIL_BACKOFF);
  await db
    .updateTable('contact_attempts')
    .set(
      giveUp
        ? { status: 'failed', outcome: 'failed', last_error: error, completed_at: now, updated_at: now, locked_by: null, locked_until: null }
        : { status: 'pending', last_error: error, due_at: new Date(now.getTime() + delayMs), updated_at: now, locked_by: null, locked_until: null },
    )
    .where('id', '=', id)
    .where('status', '=', 'dispatching')
    .execute();
  return giveUp ? 'failed' : 'retry';
}

/** The provider accepted the call: wait for its result until `resultDueAt`. */
export async function markCallPlaced(db: Db, id: string, providerRef: string, resultDueAt: Date, now: Date) {
  await db
    .updateTable('contact_attempts')
    .set({ status: 'placed', provider_ref: providerRef, due_at: resultDueAt, updated_at: now, locked_by: null, locked_until: null })
    .where('id', '=', id)
    .where('status', '=', 'dispatching')
    .execute();
}

/** A fresh resolution token for one email: random, only its hash is kept. */
export async function issueResolutionToken(db: Db, ticketId: string, now: Date): Promise<string> {
  const token = newSecret('');
  await db.insertInto('resolution_tokens').values({ token_hash: hashToken(token), ticket_id: ticketId, created_at: now }).execute();
  return token;
}

export async function ticketIdForToken(db: Db, token: string): Promise<string | null> {
  const row = await db.selectFrom('resolution_tokens').select('ticket_id').where('token_hash', '=', hashToken(token)).executeTakeFirst();
  return row?.ticket_id ?? null;
}

/** The ticket a resolution token grants, or null for an unknown token. */
export async function ticketForToken(db: Db, token: string): Promise<Ticket | null> {
  const row = await db.selectFrom('tickets').selectAll().where('id', '=', db.selectFrom('resolution_tokens').select('ticket_id').where('token_hash', '=', hashToken(token))).executeTakeFirst();
  return row ?? null;
}

/** A claimed call that is no longer needed (the walk stopped before it was placed). */
export async function markAttemptCanceled(db: Db, id: string, now: Date) {
  await db
    .updateTable('contact_attempts')
    .set({ status: 'canceled', outcome: 'canceled', completed_at: now, updated_at: now, locked_by: null, locked_until: null })
    .where('id', '=', id)
    .where('status', '=', 'dispatching')
    .execute();
}

/**
 * An SMS attempt that reached Twilio (it has Twilio's SID), or may have: being sent right now (a fast reply
 * can arrive before the SID is written) or `unknown` (the notifier stopped while sending). One that was
 * never sent — rate-limited, opted out, refused, canceled, still pending — texted nobody: a reply from that
 * number is not about it.
 */
export const smsWentOut = (eb: ExpressionBuilder<Database & { a: Database['contact_attempts'] }, 'a'>) =>
  eb.or([eb('a.provider_ref', 'is not', null), eb('a.status', '=', 'dispatching'), eb('a.outcome', '=', 'unknown')]);

/**
 * The walk's own attempt (call or SMS) a follow-up email belongs to (same ticket, contact and step), or
 * null; `sent`: for an SMS, whether it went out by smsWentOut — the same judgement smsReply makes.
 */
export async function walkAttemptOfStep(db: Db, a: Pick<ContactAttempt, 'ticket_id' | 'contact_id' | 'step'>): Promise<{ kind: 'call' | 'sms'; outcome: string | null; sent: boolean } | null> {
  // The last one of the step: with redials, the call after which the walk moved on.
  const row = await db
    .selectFrom('contact_attempts as a')
    .select((eb) => ['a.kind', 'a.outcome', smsWentOut(eb).as('sent')])
    .where('a.ticket_id', '=', a.ticket_id)
    .where('a.contact_id', '=', a.contact_id)
    .where('a.step', '=', a.step)
    .where('a.kind', 'in', ['call', 'sms'])
    .orderBy('a.round', 'desc')
    .executeTakeFirst();
  return row ? { kind: row.kind as 'call' | 'sms', outcome: row.outcome, sent: !!row.sent } : null;
}
