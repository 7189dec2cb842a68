// Delivery of enforcement events (SPEC §9) from the outbox, per destination. A destination receives a
// tenant's events in sequence order: only the oldest pending event of each tenant can be claimed, so a
// `reinstated` never overtakes the `suspended` before it, while other tenants' events go on.
import { sql } from 'kysely';
import type { Db } from './connect.js';
import type { Destination } from './schema.js';

export interface ClaimedDelivery {
  event_id: string;
  tenant_id: string;
  tenant_seq: string;
  tries: number;
  payload: Record<string, unknown>;
}

export async function claimDeliveries(db: Db, destination: Destination, o: { now: Date; limit: number; leaseSeconds: number; workerId: string }): Promise<ClaimedDelivery[]> {
  const until = new Date(o.now.getTime() + o.leaseSeconds * 1000);
  const result = await sql<ClaimedDelivery>`
    with heads as (
      select distinct on (tenant_id) event_id, due_at, locked_until
      from outbox_deliveries
      where destination = ${destination} and status = 'pending'
      order by tenant_id, tenant_seq),
    due as (
      select d.event_id from outbox_deliveries d
      join heads h on h.event_id = d.event_id
      where d.destination = ${destination} and d.status = 'pending' and h.due_at <= ${o.now}
        and (h.locked_until is null or h.locked_until < ${o.now})
      order by h.due_at
      limit ${o.limit}
      for update of d skip locked)
    update outbox_deliveries d set locked_by = ${o.workerId}, locked_until = ${until}, tries = d.tries + 1
    from due, outbox ob
    where d.event_id = due.event_id and d.destination = ${destination} and ob.id = d.event_id
    returning d.event_id, d.tenant_id, d.tenant_seq, d.tries, ob.payload`.execute(db);
  return result.rows;
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

/** Exponential backoff with jitter, capped at five minutes; retried until delivered. */
export const deliveryBackoffMs = (tries: number, random = Math.random()) => Math.min(300_000, 1000 * 2 ** Math.min(tries - 1, 9)) * (0.5 + random);

export async function markDeliveryFailed(db: Db, destination: Destination, eventIds: string[], tries: number, error: string, now: Date) {
  if (eventIds.length === 0) return;
  await db
    .updateTable('outbox_deliveries')
    .set({ due_at: new Date(now.getTime() + deliveryBackoffMs(tries)), last_error: error.slice(0, 2000), locked_by: null, locked_until: null })
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
