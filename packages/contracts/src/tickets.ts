// Tickets (SPEC §6, §7): states and actions, the bodies of the agent actions and of the tenant's resolution,
// and the ticket views the API answers with (packages/db/src/views.ts builds them).
import { z } from 'zod';
import { EnforcementEventView } from './enforcement.js';
import { Instant, TicketNumber } from './ids.js';
import { RULES, SEVERITIES, TICKET_ACTIONS, TICKET_STATES } from './ticket-states.js';

export * from './ticket-states.js';

export const ContactReachedBody = z.object({ contactId: z.uuid().optional(), note: z.string().min(1).max(5000) });
export const NoteBody = z.object({ text: z.string().min(1).max(5000) });
export const ExtendBody = z.object({ minutes: z.number().int().min(1).max(7 * 24 * 60), reason: z.string().min(1).max(5000) });
export const ReasonBody = z.object({ reason: z.string().min(1).max(5000) });
export const NoteOnlyBody = z.object({ note: z.string().min(1).max(5000) });

export const ResolutionBody = z.object({
  ticketNumber: TicketNumber,
  token: z.string().min(16).max(200),
  actionsTaken: z.string().min(10, 'must be at least 10 characters').max(5000, 'must be at most 5000 characters'),
  contactName: z.string().min(1).max(200).optional(),
});

/** POST /v1/resolutions: the tenant's fix was recorded. */
export const ResolutionReceipt = z.object({ ticketNumber: z.string(), state: z.enum(TICKET_STATES), submittedAt: Instant }).meta({ id: 'ResolutionReceipt' });
export type ResolutionReceipt = z.infer<typeof ResolutionReceipt>;

// ---------- the ticket views

const counts = z.object({ spam: z.number().int(), phish: z.number().int(), virus: z.number().int(), clean: z.number().int() });

/** What tripped: the window, its counts and the thresholds it crossed, and the top senders. */
export const Evidence = z
  .object({
    rule: z.enum(RULES),
    windowSeconds: z.number().int(),
    windowStart: Instant,
    windowEnd: Instant,
    counts,
    total: z.number().int(),
    ratio: z.number(),
    thresholds: z.record(z.string(), z.number()),
    topSenders: z.array(z.object({ sender: z.string(), count: z.number().int() })),
    surge: z.object({ volume: z.number(), baseline: z.number(), multiple: z.number().nullable() }).optional().describe('Surge tickets: the volume, the baseline and their ratio'),
    probationUntil: Instant.optional().describe('Tickets opened during probation: when it ends'),
    complaints: z
      .object({
        count: z.number().int(),
        feedbackTypes: z.record(z.string(), z.number().int()),
        topSenders: z.array(z.object({ sender: z.string(), count: z.number().int() })),
        topSubjects: z.array(z.object({ subject: z.string(), count: z.number().int() })),
        samples: z.array(z.object({ feedbackType: z.string(), receivedAt: z.string(), sourceIp: z.string().nullable(), headers: z.string().describe('the reported message’s headers, recipient addresses redacted') })),
      })
      .optional()
      .describe('Complaint tickets: the reports behind the trip'),
  })
  .meta({ id: 'Evidence' });
export type Evidence = z.infer<typeof Evidence>;

export const TicketSummary = z
  .object({
    id: z.string(),
    number: z.string(),
    tenantId: z.string(),
    state: z.enum(TICKET_STATES),
    severity: z.enum(SEVERITIES),
    rule: z.enum(RULES),
    open: z.boolean(),
    noContacts: z.boolean(),
    deadlineAt: Instant.nullable(),
    outboundDisabled: z.boolean(),
    walking: z.boolean().describe('The contact walk still runs'),
    probationUntil: Instant.nullable(),
    tripCount: z.number().int(),
    openedAt: Instant,
    updatedAt: Instant,
    closedAt: Instant.nullable(),
    evidence: Evidence,
  })
  .meta({ id: 'TicketSummary' });
export type TicketSummary = z.infer<typeof TicketSummary>;

export const TicketPage = z.object({ items: z.array(TicketSummary), nextCursor: z.string().nullable() }).meta({ id: 'TicketPage' });
export type TicketPage = z.infer<typeof TicketPage>;

/** A contact as the walk saw it when the ticket opened. */
export const TicketContact = z
  .object({
    id: z.string(),
    name: z.string(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    role: z.enum(['contact', 'tam']),
    preferredChannel: z.enum(['phone', 'email', 'sms']).nullable(),
    timezone: z.string().nullable(),
  })
  .meta({ id: 'TicketContact' });
export type TicketContact = z.infer<typeof TicketContact>;

/** One call or email of the walk, or a notice. */
export const ContactAttempt = z
  .object({
    id: z.string(),
    contactId: z.string(),
    contactName: z.string(),
    channel: z.enum(['voice', 'email', 'sms']),
    address: z.string(),
    kind: z.string().describe('call, followup, sms, sms_followup, final, tam_briefing, tam_call, confirmation, suspension_notice or reinstatement_notice'),
    step: z.number().int(),
    round: z.number().int().describe('the n-th call to this contact at this step (a redial: 2 or 3); 1 for everything else'),
    status: z.enum(['pending', 'dispatching', 'placed', 'held', 'done', 'canceled', 'failed']).describe('held: waiting for the digest of an address shared by several tenants'),
    outcome: z.string().nullable().describe('for calls: acknowledged, answered, voicemail, no-answer, busy, failed, canceled, lost, unknown, rate-limited or digested; for emails: sent or failed; for SMS: acknowledged, no-reply, undelivered, failed, opted-out, unknown, canceled, rate-limited or sent'),
    messageStatus: z.string().nullable().describe("for SMS: the provider's last delivery status (queued, sent, delivered, undelivered, failed)"),
    tries: z.number().int(),
    lastError: z.string().nullable(),
    /** The digest this message waits for or went out with (an address shared by several tenants). */
    digestId: z.string().nullable(),
    createdAt: Instant,
    completedAt: Instant.nullable(),
  })
  .meta({ id: 'ContactAttempt' });
export type ContactAttempt = z.infer<typeof ContactAttempt>;

/** An append-only ticket event: who, when, what, why. */
export const TicketEvent = z
  .object({
    seq: z.number().int(),
    at: Instant,
    actor: z.string(),
    type: z.string(),
    fromState: z.string().nullable(),
    toState: z.string().nullable(),
    reason: z.string().nullable(),
    data: z.unknown(),
  })
  .meta({ id: 'TicketEvent' });
export type TicketEvent = z.infer<typeof TicketEvent>;

export const TicketDetail = z
  .object({
    ...TicketSummary.shape,
    contacts: z.array(TicketContact),
    resolution: z.object({ actionsTaken: z.string(), contactName: z.string().nullable(), submittedAt: Instant.nullable() }).nullable(),
    attempts: z.array(ContactAttempt),
    events: z.array(TicketEvent),
    enforcementEvents: z.array(EnforcementEventView),
    allowedActions: z.array(z.enum(TICKET_ACTIONS)).optional().describe('The actions the ticket lifecycle accepts now'),
  })
  .meta({ id: 'TicketDetail' });
export type TicketDetail = z.infer<typeof TicketDetail>;

/** The call queue (issue 14): calls due and waiting to be placed at TWILIO_CALLS_PER_SECOND. */
export const CallQueue = z
  .object({
    length: z.number().int().describe('calls due and waiting for a call slot'),
    oldestAgeSeconds: z.number().describe('how long the oldest waiting call has waited (0 when none waits)'),
    callsPerSecond: z.number().int().describe('TWILIO_CALLS_PER_SECOND: calls placed per second by all notifiers together'),
  })
  .meta({ id: 'CallQueue' });
export type CallQueue = z.infer<typeof CallQueue>;
