// One claimed contact attempt of the attempts loop: an email to send (or to hold for its digest when the
// address is shared by several tenants), or a call that needs reconciling — its result is overdue, or
// its notifier died while placing it. Calls waiting to be placed go through the dialer (dialer.ts).
import { renderEmail, smsText } from '@abuse-desk/channels';
import type { EmailKind, WalkTry } from '@abuse-desk/channels';
import { holdForDigest, isSharedAddress, isSmsOptedOut, issueAckToken, issueResolutionToken, markAttemptCanceled, markEmailFailed, markEmailSent, markSmsSent, messageView, recordCallOutcome, recordSmsOptOut, recordSmsOutcome, reserveNumber, smsSentTo, walkAttemptOfStep } from '@abuse-desk/db';
import type { Claimed, ContactAttempt } from '@abuse-desk/db';
import { claimedCallAction } from '@abuse-desk/domain';
import type { CallOutcome, SmsOutcome } from '@abuse-desk/domain';
import type { Logger } from 'pino';
import type { NotifierDeps, NotifierMetrics } from './index.js';

export const outcomeContext = (deps: NotifierDeps) => ({
  now: deps.clock.now(),
  resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds,
  actor: 'system:notifier',
  destinations: deps.config.enforcementDestinations,
});

/** Ends a call attempt with `outcome` (which moves the walk on); `detail` goes on the ticket's timeline. */
export async function finishCall(deps: NotifierDeps, a: ContactAttempt, log: Logger, metrics: NotifierMetrics, outcome: CallOutcome, error: string | null, detail?: string) {
  const ctx = { ...outcomeContext(deps), error, ...(detail ? { detail } : {}) };
  const r = await deps.db.transaction().execute((trx) => recordCallOutcome(trx, a.id, outcome, ctx));
  if (r.applied) metrics.attempts.inc({ channel: a.channel, kind: a.kind, outcome });
  log.info({ outcome, error }, 'call.ended');
}

/** What a follow-up says the walk did at its step: called, could not call, texted, could not text. */
function walkTry(step: { kind: 'call' | 'sms'; outcome: string | null; sent: boolean } | null): WalkTry | undefined {
  if (!step) return undefined;
  if (step.kind === 'sms') return step.sent ? 'sms' : 'sms-not-sent';
  return step.outcome === 'rate-limited' ? 'call-not-placed' : 'call';
}

/** Whether this attempt goes into its address's digest instead of out on its own. */
export async function digested(deps: NotifierDeps, a: ContactAttempt): Promise<boolean> {
  if (deps.config.digestMinutes === 0 || a.digest_id || a.channel === 'sms') return false; // SMS have no digest
  if (a.channel === 'voice' && a.kind !== 'tam_call') return false; // the walk's own calls are never held
  return isSharedAddress(deps.db, a.channel, a.address);
}

export async function performAttempt(deps: NotifierDeps, a: Claimed<ContactAttempt>, parent: Logger, metrics: NotifierMetrics) {
  const log = parent.child({ attemptId: a.id, ticketId: a.ticket_id, kind: a.kind, channel: a.channel });
  if (a.channel === 'sms') return performSms(deps, a, log, metrics);
  if (a.channel === 'voice') {
    const action = claimedCallAction(a.previous_status);
    if (action === 'end_unknown') return finishCall(deps, a, log, metrics, 'unknown', 'the notifier stopped while placing this call; it is not placed again');
    if (action === 'look_up') return finishCall(deps, a, log, metrics, await deps.voice.overdueOutcome(a.provider_ref ?? ''), null);
    throw new Error(`call ${a.id} was claimed by the attempts loop while ${a.previous_status}`);
  }

  if (a.previous_status === 'dispatching') log.warn('email.resend_after_crash');
  else if (await digested(deps, a)) {
    const digestId = await holdForDigest(deps.db, a, deps.clock.now());
    log.info({ digestId }, 'email.held_for_digest');
    return;
  }
  const now = deps.clock.now();
  const token = await issueResolutionToken(deps.db, a.ticket_id, now);
  const view = await messageView(deps.db, a.ticket_id, `${deps.config.publicBaseUrl}/resolve/${token}`);
  if (!view) throw new Error(`ticket ${a.ticket_id} of attempt ${a.id} not found`);
  const tried = a.kind === 'followup' ? walkTry(await walkAttemptOfStep(deps.db, a)) : undefined;
  // While the walk still looks for someone, the email carries this contact's own acknowledgement link (issue 16).
  const acknowledgeUrl = view.walking ? `${deps.config.publicBaseUrl}/ack/${await issueAckToken(deps.db, a.ticket_id, a.contact_id, now)}` : null;
  const texted = acknowledgeUrl !== null && (await smsSentTo(deps.db, a.ticket_id, a.contact_id));
  const rendered = renderEmail(a.kind as EmailKind, view, { name: a.contact_name, timezone: a.timezone, tried, texted, acknowledgeUrl });
  try {
    const sent = await deps.email.send({ to: [a.address], ...rendered, messageId: `<${a.id}@abuse-desk>` });
    await markEmailSent(deps.db, a.id, sent.providerRef, deps.clock.now());
    metrics.attempts.inc({ channel: a.channel, kind: a.kind, outcome: 'sent' });
    log.info('email.sent');
  } catch (err) {
    const next = await markEmailFailed(deps.db, a.id, a.tries, err instanceof Error ? err.message : String(err), deps.clock.now());
    if (next === 'failed') metrics.attempts.inc({ channel: a.channel, kind: a.kind, outcome: 'failed' });
    log.warn({ err, tries: a.tries, next }, 'email.failed');
  }
}

/** Ends an SMS attempt with `outcome`; for the walk's own SMS that moves the walk on. */
async function finishSms(deps: NotifierDeps, a: ContactAttempt, log: Logger, metrics: NotifierMetrics, outcome: SmsOutcome, error: string | null) {
  const ctx = { ...outcomeContext(deps), error, ...(error ? { detail: error } : {}) };
  const r = await deps.db.transaction().execute((trx) => recordSmsOutcome(trx, a.id, outcome, ctx));
  if (r.applied) metrics.attempts.inc({ channel: a.channel, kind: a.kind, outcome });
  log.info({ outcome, error }, 'sms.ended');
}

/**
 * An SMS (issue 16). Claimed `placed`: the walk's reply window passed without the code. Claimed
 * `dispatching`: its notifier died while sending — it may have gone out, so it is never sent again.
 * Otherwise it is sent now, unless the walk no longer needs it or the number opted out of SMS.
 */
async function performSms(deps: NotifierDeps, a: Claimed<ContactAttempt>, log: Logger, metrics: NotifierMetrics) {
  if (a.previous_status === 'placed') return finishSms(deps, a, log, metrics, 'no-reply', null);
  if (a.previous_status === 'dispatching') return finishSms(deps, a, log, metrics, 'unknown', 'the notifier stopped while sending this SMS; it is not sent again');
  const view = await messageView(deps.db, a.ticket_id, '');
  if (!view) throw new Error(`ticket ${a.ticket_id} of attempt ${a.id} not found`);
  if (!view.walking) {
    // The walk stopped between the claim and now (someone acknowledged): nothing to ask any more.
    await markAttemptCanceled(deps.db, a.id, deps.clock.now());
    log.info('sms.not_needed');
    return;
  }
  if (await isSmsOptedOut(deps.db, a.address)) return finishSms(deps, a, log, metrics, 'opted-out', 'the number opted out of SMS (replied STOP); not sent');
  // A number on many tenants' lists (a reseller, a shared IT provider) would get one SMS per ticket: SMS have
  // no digest, so SMS_PER_NUMBER_PER_HOUR caps them as CALLS_PER_NUMBER_PER_HOUR caps calls.
  const limit = deps.config.smsPerNumberPerHour;
  const reserved = await reserveNumber(deps.db, a.id, a.address, limit, deps.clock.now(), 'sms');
  if (!reserved.ok) {
    log.warn({ smsInLastHour: reserved.inLastHour, limit }, 'sms.rate_limited');
    return finishSms(deps, a, log, metrics, 'rate-limited', `${a.address} had ${reserved.inLastHour} SMS in the last hour (SMS_PER_NUMBER_PER_HOUR is ${limit}); not sent`);
  }
  const now = deps.clock.now();
  const sent = await deps.sms.send({ attemptId: a.id, to: a.address, body: smsText(a.kind === 'sms' ? 'sms' : 'sms_followup', view) }, now);
  if (sent.status === 'sent') {
    // The walk's own SMS waits for a reply for the policy's window; an SMS beside a follow-up is done.
    const replyDueAt = a.kind === 'sms' ? new Date(now.getTime() + view.smsReplySeconds * 1000) : null;
    await markSmsSent(deps.db, a.id, sent.providerRef, replyDueAt, deps.clock.now());
    if (!replyDueAt) metrics.attempts.inc({ channel: a.channel, kind: a.kind, outcome: 'sent' });
    log.info({ providerRef: sent.providerRef, replyDueAt }, 'sms.sent');
    return;
  }
  if (sent.status === 'failed' && sent.optedOut) {
    await recordSmsOptOut(deps.db, a.address, `Twilio refused attempt ${a.id}: ${sent.error}`, deps.clock.now());
    return finishSms(deps, a, log, metrics, 'opted-out', sent.error);
  }
  return finishSms(deps, a, log, metrics, sent.status, sent.error);
}
