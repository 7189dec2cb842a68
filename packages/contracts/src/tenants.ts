// Tenants and their contact lists (SPEC §7): the bodies an admin sends and the views the API answers
// with — the tenant with its outbound status and open ticket, the MTA's outbound lookups, the counts.
import { z } from 'zod';
import { EnforcementEventView } from './enforcement.js';
import { Instant } from './ids.js';
import { TicketSummary } from './tickets.js';

export const TenantBody = z.object({ name: z.string().min(1).max(200), notes: z.string().max(5000).optional() });

const isIanaZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const CONTACT_ROLES = ['contact', 'tam'] as const;
export const CHANNELS = ['phone', 'email', 'sms'] as const;

export const Contact = z
  .object({
    name: z.string().min(1).max(200),
    phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +14155550100').optional(),
    email: z.email('must be a valid email address').max(320).optional(),
    role: z.enum(CONTACT_ROLES),
    preferredChannel: z.enum(CHANNELS).optional(),
    timezone: z.string().refine(isIanaZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
  })
  .refine((c) => c.phone !== undefined || c.email !== undefined, { message: 'a contact needs a phone or an email (or both)', path: ['phone'] })
  .refine((c) => c.preferredChannel !== 'phone' || c.phone !== undefined, { message: 'preferredChannel phone needs a phone number', path: ['preferredChannel'] })
  .refine((c) => c.preferredChannel !== 'email' || c.email !== undefined, { message: 'preferredChannel email needs an email address', path: ['preferredChannel'] })
  .refine((c) => c.preferredChannel !== 'sms' || c.phone !== undefined, { message: 'preferredChannel sms needs a phone number (one that can receive SMS)', path: ['preferredChannel'] })
  // A TAM is briefed on many tenants at once: calls and emails to a shared TAM go out as digests, SMS has none.
  .refine((c) => c.preferredChannel !== 'sms' || c.role !== 'tam', { message: 'preferredChannel sms is for walk contacts; a TAM is briefed by email (and a call with preferredChannel phone)', path: ['preferredChannel'] });
export type Contact = z.infer<typeof Contact>;

export const ContactList = z.array(Contact).max(50);

/** A stored contact as the API shows it: absent fields are left out, never null. */
export const ContactView = z
  .object({
    id: z.string(),
    name: z.string(),
    phone: z.string().optional(),
    email: z.string().optional(),
    role: z.enum(CONTACT_ROLES),
    preferredChannel: z.enum(CHANNELS).optional(),
    timezone: z.string().optional(),
  })
  .meta({ id: 'ContactView' });
export type ContactView = z.infer<typeof ContactView>;

/** PUT /v1/tenants/{tenantId}/contacts: the list as stored, in walk order. */
export const ContactListReply = z.object({ tenantId: z.string(), contacts: z.array(ContactView) }).meta({ id: 'ContactListReply' });
export type ContactListReply = z.infer<typeof ContactListReply>;

/** What an MTA asks (GET /v1/tenants/{tenantId}/outbound). */
export const OutboundStatus = z
  .object({
    tenantId: z.string(),
    enabled: z.boolean(),
    since: Instant,
    ticketNumber: z.string().optional().describe('The ticket that disabled outbound mail, while it is disabled'),
  })
  .meta({ id: 'OutboundStatus' });
export type OutboundStatus = z.infer<typeof OutboundStatus>;

/** GET /v1/outbound/suspended: every tenant whose outbound mail is disabled, in id order. */
export const SuspendedPage = z.object({ items: z.array(OutboundStatus), nextCursor: z.string().nullable() }).meta({ id: 'SuspendedPage' });
export type SuspendedPage = z.infer<typeof SuspendedPage>;

export const TenantEventView = z
  .object({ at: Instant, actor: z.string(), type: z.string(), reason: z.string().nullable(), data: z.unknown() })
  .meta({ id: 'TenantEventView' });
export type TenantEventView = z.infer<typeof TenantEventView>;

export const TenantView = z
  .object({
    id: z.string(),
    name: z.string(),
    notes: z.string().nullable(),
    outbound: OutboundStatus,
    contacts: z.array(ContactView),
    openTicket: TicketSummary.nullable(),
    probation: z.object({ since: Instant.nullable(), until: Instant, active: z.boolean() }).nullable(),
    enforcementEvents: z.array(EnforcementEventView).describe('The latest 20, oldest first'),
    events: z.array(TenantEventView).describe('The latest 50, newest first'),
    createdAt: Instant,
  })
  .meta({ id: 'TenantView' });
export type TenantView = z.infer<typeof TenantView>;

export const TenantPage = z.object({ items: z.array(TenantView), nextAfter: z.string().nullable() }).meta({ id: 'TenantPage' });
export type TenantPage = z.infer<typeof TenantPage>;

/** One minute of a tenant's verdicts, by event time. */
export const Bucket = z
  .object({
    bucketStart: Instant,
    spam: z.number().int(),
    phish: z.number().int(),
    virus: z.number().int(),
    clean: z.number().int(),
    complaint: z.number().int().describe('attributed complaint reports counted in this minute (by the reported mail’s arrival), issue 17'),
  })
  .meta({ id: 'Bucket' });
export type Bucket = z.infer<typeof Bucket>;

export const CountsReply = z.object({ tenantId: z.string(), from: Instant, to: Instant, buckets: z.array(Bucket) }).meta({ id: 'CountsReply' });
export type CountsReply = z.infer<typeof CountsReply>;
