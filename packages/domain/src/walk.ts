// The contact walk of SPEC §6 and §8 as pure planning: who is contacted next, on which channel.
// Contacts are walked in list order by phone first; a contact without a phone gets the follow-up
// email and the walk moves straight on. The TAM is briefed at the start, in parallel.

export interface WalkContact {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  role: 'contact' | 'tam';
  preferredChannel: 'phone' | 'email' | null;
  timezone: string | null;
}

export type AttemptKind = 'call' | 'followup' | 'tam_briefing' | 'tam_call' | 'confirmation' | 'final' | 'suspension_notice' | 'reinstatement_notice';

export interface PlannedAttempt {
  contactId: string;
  kind: AttemptKind;
  channel: 'voice' | 'email';
  /** Position in the walk for walk attempts; the ticket event sequence for notices. */
  step: number;
}

/** `rate-limited`: not placed, the number had its CALLS_PER_NUMBER_PER_HOUR; the walk goes on as if unanswered (follow-up email, next contact). */
export type CallOutcome = 'acknowledged' | 'answered' | 'voicemail' | 'no-answer' | 'busy' | 'failed' | 'canceled' | 'lost' | 'unknown' | 'rate-limited';

export interface WalkPlan {
  attempts: PlannedAttempt[];
  /** The walk position after these attempts: the contact whose call we now wait for. */
  position: number;
  exhausted: boolean;
}

/** The contacts walked in order (TAMs are not part of the walk). */
export const walkOrder = (contacts: WalkContact[]) => contacts.filter((c) => c.role === 'contact');

/** Plans from `position` on: email-only contacts get their follow-up at once, the first phone contact gets a call. */
export function planFrom(contacts: WalkContact[], position: number): WalkPlan {
  const order = walkOrder(contacts);
  const attempts: PlannedAttempt[] = [];
  for (let i = position; i < order.length; i++) {
    const c = order[i]!;
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
 * After the call to the contact at `position` ended without an acknowledgement: the follow-up email to
 * that contact, then the next step. Acknowledgements are ticket commands, not walk steps.
 */
export function afterCall(contacts: WalkContact[], position: number): WalkPlan {
  const c = walkOrder(contacts)[position];
  const followup: PlannedAttempt[] = c?.email ? [{ contactId: c.id, kind: 'followup', channel: 'email', step: position }] : [];
  const next = planFrom(contacts, position + 1);
  return { ...next, attempts: [...followup, ...next.attempts] };
}

/** Who receives a notice sent to "all contacts": everyone with an email, TAM included. */
export const noticeRecipients = (contacts: WalkContact[]) => contacts.filter((c) => c.email);
