// zod schemas shared by the API, the Kafka consumer, the workers and the UI: the shapes of SPEC §4–§9.
// Validation happens at the edges with these schemas and nowhere else.
import { z } from 'zod';

// ---------- verdicts (SPEC §4)

export const VERDICTS = ['spam', 'phish', 'virus', 'clean'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

export const TenantId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'must be 1–128 characters of A–Z a–z 0–9 . _ : -');

/** Text PostgreSQL can store: no NUL characters. */
const text = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

export const Verdict = z.object({
  tenantId: TenantId,
  messageId: text(998, 1),
  verdict: z.enum(VERDICTS),
  occurredAt: z.iso
    .datetime({ offset: true, error: 'must be an RFC 3339 date-time' })
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a real date and time'),
  sender: text(998).optional(),
  recipients: z.number().int().min(1).default(1),
  score: z.number().optional(),
  engine: text(128).optional(),
});
export type Verdict = z.infer<typeof Verdict>;

export const MAX_VERDICTS_PER_REQUEST = 10_000;

export const VerdictIngestReply = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(z.object({ index: z.number().int(), reason: z.string() })),
  ticketsOpened: z.array(z.string()),
});
export type VerdictIngestReply = z.infer<typeof VerdictIngestReply>;

/** Human-readable reason a raw verdict was refused: the first failing field and why. */
export function verdictProblem(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

// ---------- policy (SPEC §5)

const positiveSeconds = z.number().int().min(60, 'must be at least 60 seconds').max(7 * 86400, 'must be at most 7 days');

export const CriticalRule = z.object({
  windowSeconds: positiveSeconds,
  minVirus: z.number().int().min(1),
  action: z.enum(['escalate', 'suspend']),
});

export const Policy = z.object({
  mode: z.enum(['enforce', 'shadow']),
  windowSeconds: positiveSeconds,
  minSpam: z.number().int().min(1),
  minSpamRatio: z.number().min(0).max(1),
  critical: CriticalRule.optional(),
  surge: z.object({ windowSeconds: positiveSeconds, multiple: z.number().positive(), baselineDays: z.number().int().min(1).max(28), minVolume: z.number().int().min(1) }).optional(),
  probation: z.object({ hours: z.number().positive(), factor: z.number().positive().max(1) }).optional(),
});
export type Policy = z.infer<typeof Policy>;

export const DEFAULT_POLICY: Policy = {
  mode: 'enforce',
  windowSeconds: 600,
  minSpam: 50,
  minSpamRatio: 0.05,
  critical: { windowSeconds: 300, minVirus: 5, action: 'escalate' },
};

/** A per-tenant override: any part of the policy, merged over the default. */
export const PolicyOverride = z.object({
  policy: z.object({
    mode: Policy.shape.mode.optional(),
    windowSeconds: positiveSeconds.optional(),
    minSpam: z.number().int().min(1).optional(),
    minSpamRatio: z.number().min(0).max(1).optional(),
    critical: CriticalRule.partial().optional(),
    surge: Policy.shape.surge,
    probation: Policy.shape.probation,
  }),
  reason: z.string().min(3).max(2000),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type PolicyOverride = z.infer<typeof PolicyOverride>;

// ---------- tenants and contacts (SPEC §7)

export const TenantBody = z.object({ name: z.string().min(1).max(200), notes: z.string().max(5000).optional() });

const isIanaZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const Contact = z
  .object({
    name: z.string().min(1).max(200),
    phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +14155550100').optional(),
    email: z.email('must be a valid email address').max(320).optional(),
    role: z.enum(['contact', 'tam']),
    preferredChannel: z.enum(['phone', 'email']).optional(),
    timezone: z.string().refine(isIanaZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
  })
  .refine((c) => c.phone !== undefined || c.email !== undefined, { message: 'a contact needs a phone or an email (or both)', path: ['phone'] })
  .refine((c) => c.preferredChannel !== 'phone' || c.phone !== undefined, { message: 'preferredChannel phone needs a phone number', path: ['preferredChannel'] })
  .refine((c) => c.preferredChannel !== 'email' || c.email !== undefined, { message: 'preferredChannel email needs an email address', path: ['preferredChannel'] });
export type Contact = z.infer<typeof Contact>;

export const ContactList = z.array(Contact).max(50);

// ---------- tickets (SPEC §6)

export const TICKET_STATES = ['notifying', 'engaged', 'awaiting_response', 'suspended', 'resolution_submitted', 'resolved', 'dismissed', 'shadow'] as const;
export type TicketState = (typeof TICKET_STATES)[number];
export const OPEN_STATES: readonly TicketState[] = ['notifying', 'engaged', 'awaiting_response', 'suspended', 'resolution_submitted'];
export const SEVERITIES = ['normal', 'critical', 'repeat'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const RULES = ['spam', 'virus', 'surge'] as const;
export type Rule = (typeof RULES)[number];

export const TicketNumber = z.string().regex(/^ABU-\d{6,}$/, 'must look like ABU-000042');

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

// ---------- tokens (SPEC §7)

export const API_ROLES = ['admin', 'agent', 'ingest'] as const;
export type ApiRole = (typeof API_ROLES)[number];
export const TokenBody = z.object({ name: z.string().min(1).max(200), role: z.enum(API_ROLES) });

// ---------- enforcement events (SPEC §9)

export const EnforcementEvent = z.object({
  eventId: z.uuid(),
  type: z.enum(['outbound.suspended', 'outbound.reinstated']),
  tenantId: TenantId,
  ticketNumber: TicketNumber,
  at: z.iso.datetime(),
  reason: z.string(),
});
export type EnforcementEvent = z.infer<typeof EnforcementEvent>;
