// Delivery of enforcement events (SPEC §9) from the outbox, per destination. A destination receives a
// tenant's events in sequence order: only the oldest pending event of each tenant can be claimed, so a
// `reinstated` never overtakes the `suspended` before it, while other tenants' events go on.
import { sql } from 'kysely';
import { backoffMs, claim } from './claim.js';
import type { ClaimOptions } from './claim.js';
import type { Db } from './connect.js';
import type { Destination } from './schema.js';

export interface ClaimedDelivery {
  event_id: string;
  tenant_id: string;
  tenant_seq: string;
  tries: number;
  payload: Record<string, unknown>;
}

/** Claims the head event of each tenant that is due for `destination`, with its payload. */
export async function claimDeliveries(db: Db, destination: Destination, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  const pending = sql`destination = ${destination} and status = 'pending'`;
  const rows = await claim<Omit<ClaimedDelivery, 'payload'>>(db, {
    table: 'outbox_deliveries',
    key: ['event_id', 'destination'],
    due: sql`${pending} and due_at <= ${o.now}`,
    orderBy: 'due_at',
    limit: o.limit,
    headOf: { partitionBy: 'tenant_id', orderBy: 'tenant_seq', among: pending },
    lease: { now: o.now, seconds: o.leaseSeconds, workerId: o.workerId },
  });
  if (rows.length === 0) return [];
  const payloads = await db.selectFrom('outbox').select(['id', 'payload']).where('id', 'in', rows.map((r) => r.event_id)).execute();
  const byId = new Map(payloads.map((p) => [p.id, p.payload as Record<string, unknown>]));
  return rows.map((r) => ({ event_id: r.event_id, tenant_id: r.tenant_id, tenant_seq: r.tenant_seq, tries: r.tries, payload: byId.get(r.event_id)! }));
}

export async function markDelivered(db: Db, destination: Destination, eventIds: string[], now: Date) {
  if (eventIds.length === 0) return;
  await db
    .updateTable('outbox_deliveries')
    .set({ status: 'delivered', delivered_at: now, locked_by: null, locked_until: null, last_error: null })
    .where('destination', '=', destination)
    .where('event_id', 'in', eventIds)
    .where('status', '=', 'pending')
    .execute();
}

/** Retried until delivered: from one second, at most five minutes apart. */
export const DELIVERY_BACKOFF = { firstMs: 1000, capMs: 300_000 };

export async function markDeliveryFailed(db: Db, destination: Destination, eventIds: string[], tries: number, error: string, now: Date) {
  if (eventIds.length === 0) return;
  await db
    .updateTable('outbox_deliveries')
    .set({ due_at: new Date(now.getTime() + backoffMs(tries, DELIVERY_BACKOFF)), last_error: error.slice(0, 2000), locked_by: null, locked_until: null })
    .where('destination', '=', destination)
    .where('event_id', 'in', eventIds)
    .where('status', '=', 'pending')
    .execute();
}

/** Age in seconds of the oldest event not yet delivered to `destination` (0 when none). */
export async function oldestPendingAgeSeconds(db: Db, destination: Destination, now: Date): Promise<number> {
  const row = await db
    .selectFrom('outbox_deliveries')
    .innerJoin('outbox', 'outbox.id', 'outbox_deliveries.event_id')
    .select(sql<Date | null>`min(outbox.created_at)`.as('oldest'))
    .where('outbox_deliveries.destination', '=', destination)
    .where('outbox_deliveries.status', '=', 'pending')
    .executeTakeFirst();
  return row?.oldest ? Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000) : 0;
}
