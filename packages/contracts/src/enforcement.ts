// Enforcement events (SPEC §9): the outbound.suspended / outbound.reinstated event sent to the MTAs, and
// the view of one with its delivery state per destination (ticket and tenant pages).
import { z } from 'zod';
import { Instant, TenantId, TicketNumber } from './ids.js';

export const ENFORCEMENT_TYPES = ['outbound.suspended', 'outbound.reinstated'] as const;

export const EnforcementEvent = z.object({
  eventId: z.uuid(),
  type: z.enum(ENFORCEMENT_TYPES),
  tenantId: TenantId,
  ticketNumber: TicketNumber,
  at: z.iso.datetime(),
  reason: z.string(),
});
export type EnforcementEvent = z.infer<typeof EnforcementEvent>;

export const EnforcementDelivery = z
  .object({
    destination: z.enum(['kafka', 'webhook']),
    status: z.enum(['pending', 'retrying', 'delivered']),
    tries: z.number().int(),
    lastError: z.string().nullable(),
    nextAttemptAt: Instant.nullable().describe('When the next try is due; null once delivered'),
    deliveredAt: Instant.nullable(),
  })
  .meta({ id: 'EnforcementDelivery' });
export type EnforcementDelivery = z.infer<typeof EnforcementDelivery>;

export const EnforcementEventView = z
  .object({
    eventId: z.string(),
    type: z.enum(ENFORCEMENT_TYPES),
    sequence: z.number().int().describe("The tenant's enforcement sequence: a consumer keeps the highest it applied"),
    at: Instant,
    deliveries: z.array(EnforcementDelivery),
  })
  .meta({ id: 'EnforcementEventView' });
export type EnforcementEventView = z.infer<typeof EnforcementEventView>;
