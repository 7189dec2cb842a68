// SMS (issue 16): what the notifier records when an SMS goes out, what Twilio's status callbacks change,
// who opted out, and what a reply does — the code acknowledges through the engine like a key press, any
// other text is kept on the ticket. Every change locks the ticket first, as every ticket operation does.
import { smsWentOut } from './attempts.js';
import type { Db } from './connect.js';
import type { ContactSnapshot } from './schema.js';
import { applyEvent, lockTicket, recordSmsOutcome } from './tickets.js';
import type { CommandContext } from './tickets.js';


/** Whether this contact was texted on this ticket (its emails may then mention replying with the code). */
export async function smsSentTo(db: Db, ticketId: string, contactId: string): Promise<boolean> {
  const row = await db
    .selectFrom('contact_attempts as a')
    .select('a.id')
    .where('a.ticket_id', '=', ticketId)
    .where('a.contact_id', '=', contactId)
    .where('a.channel', '=', 'sms')
    .where(smsWentOut)
    .limit(1)
    .executeTakeFirst();
  return !!row;
}

export const isSmsOptedOut = async (db: Db, number: string) => !!(await db.selectFrom('sms_opt_outs').select('number').where('number', '=', number).executeTakeFirst());

/** The number must not be texted again until it opts back in (START). `source`: why (Twilio 21610, a STOP reply). */
export async function recordSmsOptOut(db: Db, number: string, source: string, now: Date) {
  await db.insertInto('sms_opt_outs').values({ number, source, opted_out_at: now }).onConflict((oc) => oc.column('number').doUpdateSet({ source, opted_out_at: now })).execute();
}

export async function clearSmsOptOut(db: Db, number: string): Promise<boolean> {
  const r = await db.deleteFrom('sms_opt_outs').where('number', '=', number).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Twilio took the SMS. The walk's own SMS (`sms`) now waits for a reply until `replyDueAt` (`placed`,
 * claimed again when that passes); any other SMS is done (`sent`).
 */
export async function markSmsSent(db: Db, id: string, providerRef: string, replyDueAt: Date | null, now: Date) {
  await db
    .updateTable('contact_attempts')
    .set(
      replyDueAt
        ? { status: 'placed', provider_ref: providerRef, due_at: replyDueAt, updated_at: now, locked_by: null, locked_until: null }
        : { status: 'done', outcome: 'sent', provider_ref: providerRef, completed_at: now, updated_at: now, locked_by: null, locked_until: null },
    )
    .where('id', '=', id)
    .where('status', '=', 'dispatching')
    .execute();
}

/** Twilio's message statuses, in the order a message passes them; a callback never moves an SMS back. */
const STATUS_RANK: Record<string, number> = { accepted: 0, scheduled: 0, queued: 1, sending: 2, sent: 3, delivered: 4, undelivered: 4, failed: 4, canceled: 4, read: 5 };
/** Twilio's error code for a recipient who replied STOP. */
export const TWILIO_OPTED_OUT = 21610;

/**
 * A message status callback: the status is kept when it is newer than the stored one; a walk SMS that
 * failed or was not delivered ends (the walk moves on), an opted-out number is remembered.
 */
export async function applyMessageStatus(trx: Db, attemptId: string, s: { messageSid: string; status: string; errorCode: number | null }, ctx: Omit<CommandContext, 'reason' | 'data'>): Promise<{ applied: boolean; ended: string | null }> {
  const a = await trx.selectFrom('contact_attempts').select('ticket_id').where('id', '=', attemptId).where('channel', '=', 'sms').executeTakeFirst();
  if (!a || !(await lockTicket(trx, a.ticket_id))) return { applied: false, ended: null };
  const row = await trx.selectFrom('contact_attempts').selectAll().where('id', '=', attemptId).forUpdate().executeTakeFirstOrThrow();
  const rank = STATUS_RANK[s.status];
  if (rank === undefined || (row.message_status !== null && rank <= (STATUS_RANK[row.message_status] ?? -1))) return { applied: false, ended: null };
  const failed = s.status === 'failed' || s.status === 'undelivered';
  const error = failed ? `${s.status}${s.errorCode ? ` (error ${s.errorCode})` : ''}` : null;
  await trx
    .updateTable('contact_attempts')
    .set({ message_status: s.status, provider_ref: row.provider_ref ?? s.messageSid, updated_at: ctx.now, ...(error ? { last_error: error } : {}) })
    .where('id', '=', attemptId)
    .execute();
  if (s.errorCode === TWILIO_OPTED_OUT) await recordSmsOptOut(trx, row.address, `Twilio error ${TWILIO_OPTED_OUT} on message ${s.messageSid}`, ctx.now);
  if (!failed || row.status !== 'placed') return { applied: true, ended: null };
  const outcome = s.errorCode === TWILIO_OPTED_OUT ? 'opted-out' : s.status === 'failed' ? 'failed' : 'undelivered';
  await recordSmsOutcome(trx, attemptId, outcome, { ...ctx, error, ...(error ? { detail: error } : {}) });
  return { applied: true, ended: outcome };
}

/** The ticket code a reply carries: `ACK 4821` (any case), or else a lone group of four digits. */
export function codeOfReply(body: string): string | null {
  return (/\back\s*[:#-]?\s*(\d{4})\b/i.exec(body) ?? /(?<!\d)(\d{4})(?!\d)/.exec(body))?.[1] ?? null;
}

export interface SmsReplyTicket {
  ticketId: string;
  number: string;
  contactName: string;
}

/**
 * What a reply did: acknowledged these tickets; matched tickets that need no acknowledgement any more
 * (`notNeeded`, with why); or was kept on every open ticket that texted this number (`recorded`, the code
 * missing or wrong). `closed`: no open ticket texted this number, but one closed in the last
 * LATE_REPLY_DAYS did — a late answer, told that nothing is needed. `unknownSender`: neither — nothing is kept.
 */
export type SmsReplyResult =
  | { kind: 'acknowledged'; tickets: SmsReplyTicket[] }
  | { kind: 'notNeeded'; tickets: (SmsReplyTicket & { detail: string })[] }
  | { kind: 'recorded'; tickets: SmsReplyTicket[]; codeGiven: boolean }
  | { kind: 'closed'; ticket: SmsReplyTicket & { state: string } }
  | { kind: 'unknownSender' };

/** How long after its ticket closed a reply to our SMS is still answered (with "nothing to do"). */
export const LATE_REPLY_DAYS = 7;

const withContactName = <T extends { contact_id: string; contacts: unknown }>(x: T) => ({ ...x, contactName: (x.contacts as ContactSnapshot[]).find((c) => c.id === x.contact_id)?.name ?? 'a contact' });

/**
 * An SMS from `from`. Only open tickets that texted that very number are candidates, so a code alone
 * grants nothing; a reply whose code is the ticket's acknowledges as that contact (channel `sms`) and
 * ends the walk SMS waiting for it. Two open tickets of one number sharing a code (1 in 10,000) are
 * both acknowledged: the person holds both messages and answered with that code.
 */
export async function smsReply(trx: Db, r: { from: string; body: string }, ctx: Omit<CommandContext, 'actor' | 'reason' | 'data'>): Promise<SmsReplyResult> {
  // The tickets whose SMS went to this number, with the contact each texted there.
  const textedFrom = () =>
    trx
      .selectFrom('contact_attempts as a')
      .innerJoin('tickets as t', 't.id', 'a.ticket_id')
      .select(['a.ticket_id', 'a.contact_id', 't.number', 't.ack_code', 't.state', 't.contacts'])
      .where('a.channel', '=', 'sms')
      .where('a.address', '=', r.from)
      .where(smsWentOut);
  const named = (await textedFrom().where('t.closed_at', 'is', null).distinct().orderBy('t.number').execute()).map(withContactName);
  if (named.length === 0) {
    // Nothing is recorded on a closed ticket; the person only learns that their answer is not needed.
    const late = await textedFrom()
      .where('t.closed_at', '>=', new Date(ctx.now.getTime() - LATE_REPLY_DAYS * 86_400_000))
      .orderBy('t.closed_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!late) return { kind: 'unknownSender' };
    const x = withContactName(late);
    return { kind: 'closed', ticket: { ticketId: x.ticket_id, number: x.number, contactName: x.contactName, state: x.state } };
  }
  const code = codeOfReply(r.body);
  const matching = code ? named.filter((x) => x.ack_code === code) : [];
  if (matching.length === 0) {
    for (const x of named) await applyEvent(trx, x.ticket_id, { type: 'sms_reply', contactId: x.contact_id, body: r.body.slice(0, 1600) }, { ...ctx, actor: `contact:${x.contactName}` });
    return { kind: 'recorded', tickets: named.map((x) => ({ ticketId: x.ticket_id, number: x.number, contactName: x.contactName })), codeGiven: code !== null };
  }
  const acknowledged: SmsReplyTicket[] = [];
  const notNeeded: (SmsReplyTicket & { detail: string })[] = [];
  for (const x of matching) {
    const ticket = { ticketId: x.ticket_id, number: x.number, contactName: x.contactName };
    const res = await applyEvent(trx, x.ticket_id, { type: 'acknowledged', contactId: x.contact_id, channel: 'sms' }, { ...ctx, actor: `contact:${x.contactName}` });
    if (!res.ok) {
      notNeeded.push({ ...ticket, detail: res.reason === 'not_found' ? 'the ticket is gone' : res.detail });
      continue;
    }
    acknowledged.push(ticket);
    // The walk SMS that waited for this reply ends as acknowledged (the walk already stopped).
    const waiting = await trx.selectFrom('contact_attempts').select('id').where('ticket_id', '=', x.ticket_id).where('contact_id', '=', x.contact_id).where('channel', '=', 'sms').where('status', '=', 'placed').execute();
    for (const w of waiting) await recordSmsOutcome(trx, w.id, 'acknowledged', { ...ctx, actor: `contact:${x.contactName}`, error: null });
  }
  return acknowledged.length ? { kind: 'acknowledged', tickets: acknowledged } : { kind: 'notNeeded', tickets: notNeeded };
}
