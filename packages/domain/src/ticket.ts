// The engine's vocabulary: a ticket as the engine sees it, the events it meets, the effects it asks for
// and the decision it returns. engine.ts decides; the database layer stores these shapes.
import type { Policy, Rule, Severity, TicketState } from '@abuse-desk/contracts';
import type { ComplaintEvidence } from './complaints.js';
import type { Redial, SmsSettings, Trip, WindowCounts } from './policy.js';
import type { Command, TicketFacts } from './ticket-state.js';
import type { AttemptKind, CallOutcome, PlannedAttempt, SmsOutcome, WalkContact } from './walk.js';

/** What a ticket says about why it was opened (SPEC §1.2), shown to agents and in every email. */
export interface Evidence {
  rule: Rule;
  windowSeconds: number;
  windowStart: string;
  windowEnd: string;
  counts: WindowCounts;
  total: number;
  ratio: number;
  thresholds: Record<string, number>;
  topSenders: { sender: string; count: number }[];
  /** Surge tickets: the window's volume, the tenant's baseline for such a window, and their ratio. */
  surge?: { volume: number; baseline: number; multiple: number | null };
  /** Tickets opened during probation: when it ends. */
  probationUntil?: string;
  /** Complaint tickets (issue 17): the reports behind the trip — how many, their feedback types, senders, subjects, samples. */
  complaints?: ComplaintEvidence & { count: number };
}

/** Everything the engine knows of a ticket: its state facts, its walk and its record. */
export interface TicketSnapshot extends TicketFacts {
  tenantId: string;
  severity: Severity;
  rule: Rule;
  evidence: Evidence;
  /** The contact list as it was when the ticket opened: the walk uses this snapshot. */
  contacts: WalkContact[];
  /** How unanswered contacts are redialled, from the policy when the ticket opened (absent: no redial). */
  redial?: Redial;
  /** How the walk uses SMS, from the policy when the ticket opened (absent: only contacts who prefer SMS, 300 s to reply). */
  sms?: SmsSettings;
  noContacts: boolean;
  /** The walk position: the contact whose call the walk waits for (contacts.length-ish when exhausted). */
  walkPosition: number;
  resolution: { actionsTaken: string; contactName: string | null; submittedAt: Date } | null;
  tripCount: number;
  lastTripAt: Date;
  /** The sequence number of the ticket's last event; events are numbered 1, 2, … per ticket. */
  eventSeq: number;
  openedAt: Date;
  closedAt: Date | null;
}

export interface TicketEventRecord {
  seq: number;
  at: Date;
  actor: string;
  type: string;
  fromState: TicketState | null;
  toState: TicketState | null;
  reason: string | null;
  data: Record<string, unknown> | null;
}

/** A contact attempt to create: one call or one email to one person, keyed (ticket, contact, kind, step). */
export interface AttemptSpec extends PlannedAttempt {
  contactName: string;
  address: string;
  timezone: string | null;
}

export type EnforcementAction = 'outbound.suspended' | 'outbound.reinstated';

export type EngineEffect =
  | { type: 'create_attempts'; attempts: AttemptSpec[] }
  /** The walk stopped: its calls and follow-ups not yet started are cancelled. */
  | { type: 'cancel_pending_walk'; kinds: readonly AttemptKind[] }
  /** Someone acknowledged: every other live call of the ticket is ended (a durable call command each); null: every live call. */
  | { type: 'cancel_live_calls'; exceptAttemptId: string | null }
  /** The tenant's outbound mail goes off or on, with an enforcement event (SPEC §9) in the outbox. */
  | { type: 'enforce'; action: EnforcementAction; reason: string }
  /** After a resolve: thresholds × factor until `until`, counting restarts at `since`. */
  | { type: 'start_probation'; since: Date; until: Date; factor: number; actor: string; reason: string };

/** A command from outside the engine (agent, tenant, enforcer), with what it carries. */
export type TicketCommand =
  | Exclude<Command, { type: 'walk_exhausted' | 'suspend_on_open' | 'resolution_submitted' }>
  | { type: 'resolution_submitted'; actionsTaken: string; contactName: string | null };

export interface EndedAttempt {
  id: string;
  contactId: string;
  contactName: string;
  kind: AttemptKind;
  step: number;
  /** Which call to this contact at this step it was (1 unless redialled). */
  round?: number;
}

export type EngineEvent =
  /**
   * `crossTripRecordedAt`: when a `<rule>.tripped` event of this trip's rule was last recorded on the open
   * ticket (null: never, or no open ticket) — only asked for a trip of the other family (complaints against
   * verdict counts), see decideTrip.
   */
  | { type: 'trip'; tenantId: string; trip: Trip; evidence: Evidence; contacts: WalkContact[]; crossTripRecordedAt?: Date | null }
  /** `detail`: why, when the outcome needs saying (a rate-limited call names the limit), kept on the timeline. */
  | { type: 'call_ended'; attempt: EndedAttempt; outcome: CallOutcome; detail?: string }
  /** A contact acknowledged without a live call (issue 16): by the link in an email. */
  | { type: 'acknowledged'; contactId: string; channel: AckChannel }
  /** An SMS of the ticket ended (issue 16): the walk's SMS moves the walk on unless it was acknowledged. */
  | { type: 'sms_ended'; attempt: EndedAttempt; outcome: SmsOutcome; detail?: string }
  /** A contact replied to our SMS without the ticket's code: kept on the ticket's record. */
  | { type: 'sms_reply'; contactId: string; body: string }
  | TicketCommand;

/** How a contact acknowledged a ticket: a key press on a call, the email link, an SMS reply, or an agent recording it. */
export type AckChannel = 'key_press' | 'link' | 'sms' | 'agent';

export interface EngineContext {
  now: Date;
  resolutionTimeoutSeconds: number;
  /** Who caused the event: `agent:…`, `tenant:…`, `system:counter`, `twilio`, … */
  actor: string;
  /** The words given with a command (the note, the reason). */
  reason?: string | null;
  /** Extra facts recorded on the command's event. */
  data?: Record<string, unknown> | null;
  /** The tenant's policy in force: its mode decides shadow tickets, its probation what a resolve starts. */
  policy: Pick<Policy, 'mode' | 'probation'>;
}

export type Decision =
  | {
      ok: true;
      /** The ticket after the event; `opened` when it is new (no id or number yet: the store assigns them). */
      ticket: TicketSnapshot;
      opened: boolean;
      events: TicketEventRecord[];
      effects: EngineEffect[];
      /** The event closed this ticket to make room for a new one: decide the same event again with no ticket. */
      reopen: boolean;
    }
  | { ok: false; reason: 'invalid_transition'; detail: string };
