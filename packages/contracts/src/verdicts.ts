// Verdicts (SPEC §4): what a filter reports per outbound message, the ingest reply, and the messages that
// could not be counted (dead letters).
import { z } from 'zod';
import { Instant, TenantId } from './ids.js';

export const VERDICTS = ['spam', 'phish', 'virus', 'clean'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

/** Text PostgreSQL can store: no NUL characters. */
const text = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

const YEAR_ONE = Date.parse('0001-01-01T00:00:00Z');

export const Verdict = z.object({
  tenantId: TenantId,
  messageId: text(998, 1),
  verdict: z.enum(VERDICTS),
  occurredAt: z.iso
    .datetime({ offset: true, error: 'must be an RFC 3339 date-time' })
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a real date and time')
    // RFC 3339 allows year 0000; PostgreSQL's calendar has no year 0 (1 BC comes before AD 1).
    .refine((s) => !(Date.parse(s) < YEAR_ONE), 'must be in year 0001 or later'),
  sender: text(998).optional(),
  recipients: z.number().int().min(1).default(1),
  score: z.number().optional(),
  engine: text(128).optional(),
});
export type Verdict = z.infer<typeof Verdict>;

export const MAX_VERDICTS_PER_REQUEST = 10_000;

export const VerdictIngestReply = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.number().int(),
    errors: z.array(z.object({ index: z.number().int(), reason: z.string() })),
    ticketsOpened: z.array(z.string()),
  })
  .meta({ id: 'VerdictIngestReply' });
export type VerdictIngestReply = z.infer<typeof VerdictIngestReply>;

/** Human-readable reason a raw verdict was refused: the first failing field and why. */
export function verdictProblem(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** A verdict message that could not be counted, kept with the reason (GET /v1/dead-letters). */
export const DeadLetter = z
  .object({
    id: z.string(),
    receivedAt: Instant,
    source: z.string().describe('Where it came from, e.g. `kafka`'),
    topic: z.string().nullable(),
    partition: z.number().int().nullable(),
    offset: z.string().nullable(),
    reason: z.string(),
    raw: z.string().describe('The message as received, decoded as UTF-8'),
  })
  .meta({ id: 'DeadLetter' });
export type DeadLetter = z.infer<typeof DeadLetter>;

export const DeadLetterPage = z.object({ items: z.array(DeadLetter) }).meta({ id: 'DeadLetterPage' });
export type DeadLetterPage = z.infer<typeof DeadLetterPage>;
