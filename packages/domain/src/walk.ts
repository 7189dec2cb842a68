// The contact walk of SPEC §6 and §8 as pure planning: who is contacted next, on which channel.
// Contacts are walked in list order by phone first; a contact whose preferred channel is SMS is texted
// instead (issue 16) and the walk waits for a reply as it waits for a call; a contact without a phone gets
// the follow-up email and the walk moves straight on. The TAM is briefed at the start, in parallel.

export interface WalkContact {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  role: 'contact' | 'tam';
  preferredChannel: 'phone' | 'email' | 'sms' | null;
  timezone: string | null;
}

/** `sms`: the walk's SMS to a contact who prefers it (the walk waits for a reply); `sms_followup`: an SMS beside the follow-up email after an unanswered call. */
export type AttemptKind = 'call' | 'followup' | 'sms' | 'sms_followup' | 'tam_briefing' | 'tam_call' | 'confirmation' | 'final' | 'suspension_notice' | 'reinstatement_notice';

export type AttemptChannel = 'voice' | 'email' | 'sms';

export interface PlannedAttempt {
  contactId: string;
  kind: AttemptKind;
  channel: AttemptChannel;
  /** Position in the walk for walk attempts; the ticket event sequence for notices. */
  step: number;
  /** The n-th call to the contact at this step (a redial: 2 or 3); absent: 1. */
  round?: number;
  /** Not before this many seconds from now (a redial); absent: at once. */
  delaySeconds?: number;
}

/** `rate-limited`: not placed, the number had its CALLS_PER_NUMBER_PER_HOUR; the walk goes on as if unanswered (follow-up email, next contact). */
export type CallOutcome = 'acknowledged' | 'answered' | 'voicemail' | 'no-answer' | 'busy' | 'failed' | 'canceled' | 'lost' | 'unknown' | 'rate-limited';

/**
 * How an SMS ended: a reply with the code (`acknowledged`), no reply within the policy's window, not
 * delivered, refused by the provider, not sent because the number opted out (Twilio 21610 or STOP), or
 * unknown (the notifier stopped while sending; never sent twice), not sent because the number had its
 * SMS_PER_NUMBER_PER_HOUR (`rate-limited`). `sent`: an SMS nobody waits for went out.
 */
export type SmsOutcome = 'acknowledged' | 'no-reply' | 'undelivered' | 'failed' | 'opted-out' | 'unknown' | 'canceled' | 'sent' | 'rate-limited';

export interface WalkPlan {
  attempts: PlannedAttempt[];
  /** The walk position after these attempts: the contact whose call we now wait for. */
  position: number;
  exhausted: boolean;
}

/** The contacts walked in order (TAMs are not part of the walk). */
export const walkOrder = (contacts: WalkContact[]) => contacts.filter((c) => c.role === 'contact');

/**
 * Plans from `position` on: email-only contacts get their follow-up at once, the first phone contact gets
 * a call — or an SMS when SMS is their preferred channel.
 */
export function planFrom(contacts: WalkContact[], position: number): WalkPlan {
  const order = walkOrder(contacts);
  const attempts: PlannedAttempt[] = [];
  for (let i = position; i < order.length; i++) {
    const c = order[i]!;
    if (c.phone && c.preferredChannel === 'sms') {
      attempts.push({ contactId: c.id, kind: 'sms', channel: 'sms', step: i });
      return { attempts, position: i, exhausted: false };
    }
    if (c.phone) {
      attempts.push({ contactId: c.id, kind: 'call', channel: 'voice', step: i });
      return { attempts, position: i, exhausted: false };
    }
    if (c.email) attempts.push({ contactId: c.id, kind: 'followup', channel: 'email', step: i });
  }
  return { attempts, position: order.length, exhausted: true };
}

/** The start of a walk: the TAM briefing (email always, a call too when the TAM prefers phone) and the first step. */
export function startWalk(contacts: WalkContact[]): WalkPlan {
  const tamAttempts: PlannedAttempt[] = [];
  for (const tam of contacts.filter((c) => c.role === 'tam')) {
    if (tam.email) tamAttempts.push({ contactId: tam.id, kind: 'tam_briefing', channel: 'email', step: 0 });
    if (tam.phone && (tam.preferredChannel === 'phone' || !tam.email)) tamAttempts.push({ contactId: tam.id, kind: 'tam_call', channel: 'voice', step: 0 });
  }
  const plan = planFrom(contacts, 0);
  return { ...plan, attempts: [...tamAttempts, ...plan.attempts] };
}

/**
 * After the call (or SMS) to the contact at `position` ended without an acknowledgement: the follow-up
 * email to that contact — and an SMS beside it when the policy says so (`smsAfterCall`) —, then the next
 * step. Acknowledgements are ticket events, not walk steps.
 */
export function afterCall(contacts: WalkContact[], position: number, o: { smsAfterCall?: boolean } = {}): WalkPlan {
  const c = walkOrder(contacts)[position];
  const followup: PlannedAttempt[] = c?.email ? [{ contactId: c.id, kind: 'followup', channel: 'email', step: position }] : [];
  if (c?.phone && o.smsAfterCall) followup.push({ contactId: c.id, kind: 'sms_followup', channel: 'sms', step: position });
  const next = planFrom(contacts, position + 1);
  return { ...next, attempts: [...followup, ...next.attempts] };
}

/** Outcomes after which an unanswered contact is called again when the policy says so: nobody pressed 1, the line worked. */
const REDIAL_AFTER: ReadonlySet<CallOutcome> = new Set(['no-answer', 'busy', 'voicemail', 'answered']);

/**
 * After a walk call at `position` ended unanswered: the same contact's next call, `afterSeconds` later,
 * while calls remain (`callAttempts`) and the deadline, if one runs, is not reached by then; else null.
 */
export function redialAfter(
  contacts: WalkContact[],
  ended: { position: number; round: number; outcome: CallOutcome },
  redial: { callAttempts: number; afterSeconds: number },
  now: Date,
  deadlineAt: Date | null,
): PlannedAttempt | null {
  const c = walkOrder(contacts)[ended.position];
  if (!c?.phone || c.preferredChannel === 'sms' || !REDIAL_AFTER.has(ended.outcome) || ended.round >= redial.callAttempts) return null;
  if (deadlineAt && now.getTime() + redial.afterSeconds * 1000 >= deadlineAt.getTime()) return null;
  return { contactId: c.id, kind: 'call', channel: 'voice', step: ended.position, round: ended.round + 1, delaySeconds: redial.afterSeconds };
}

/** Who receives a notice sent to "all contacts": everyone with an email, TAM included. */
export const noticeRecipients = (contacts: WalkContact[]) => contacts.filter((c) => c.email);
