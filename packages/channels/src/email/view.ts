// What every email and call script is rendered from: a read-only view of the ticket at send time.
import type { AttemptKind, SuspensionGrounds } from '@abuse-desk/domain';

export interface TicketView {
  number: string; // ABU-000042
  tenantId: string;
  tenantName: string;
  state: string;
  severity: 'normal' | 'critical' | 'repeat';
  rule: 'spam' | 'virus' | 'surge' | 'complaints';
  evidence: {
    windowSeconds: number;
    windowStart: string; // ISO
    windowEnd: string; // ISO
    counts: { spam: number; phish: number; virus: number; clean: number };
    total: number;
    ratio: number;
    topSenders: { sender: string; count: number }[];
    /** Complaint tickets (issue 17): how many reports, their feedback types, top subjects and a few samples (headers only). */
    complaints?: { count: number; feedbackTypes: Record<string, number>; topSubjects: { subject: string; count: number }[]; samples: { feedbackType: string; receivedAt: string; sourceIp: string | null; headers: string }[] };
  };
  /** When outbound mail will be disabled, if a deadline runs. */
  deadlineAt: Date | null;
  outboundDisabled: boolean;
  /** `{PUBLIC_BASE_URL}/resolve/{token}`; a fresh token for every email. */
  resolutionUrl: string;
  /** For confirmation notices: who acknowledged. */
  acknowledgedBy: string | null;
  /** …and how: `pressed 1 on our call`, `by the link in our email` (issue 16). */
  acknowledgedHow?: string | null;
  /** The code a contact replies to our SMS with (`ACK 4821`, issue 16); absent on tickets from before SMS. */
  ackCode?: string | null;
  /** While no deadline runs: the deadline an acknowledgement right now would start (for calls). */
  deadlineIfAcknowledgedNow?: Date | null;
  /** If the ticket suspended outbound mail: why, and whether a person decided it (stated in the suspension notice). */
  suspension?: SuspensionGrounds | null;
}

export type WalkTry = 'call' | 'call-not-placed' | 'sms' | 'sms-not-sent';

export interface Recipient {
  name: string;
  timezone: string | null;
  /**
   * For a follow-up: how the walk tried this contact at the step it follows — a call (`call`, the default),
   * a call not placed because the number had its calls for the hour (`call-not-placed`), an SMS that went out
   * without the code coming back (`sms`), or an SMS that was never sent (`sms-not-sent`: the number's hourly
   * allowance, an opt-out, a refusal). The email says what happened, never that we called when we did not.
   */
  tried?: WalkTry;
  /** This recipient was texted on this ticket: the email may mention replying to our SMS with the code. */
  texted?: boolean;
  /**
   * `{PUBLIC_BASE_URL}/ack/{token}`: this recipient's acknowledgement link (issue 16), while the ticket still
   * waits for someone to acknowledge; opening it shows a page, only its button acknowledges.
   */
  acknowledgeUrl?: string | null;
}

export type EmailKind = Exclude<AttemptKind, 'call' | 'tam_call' | 'sms' | 'sms_followup'>;
