// Delivers enforcement events from the outbox to one destination, at least once and in per-tenant
// order: claim the head event of each tenant, deliver, mark delivered; on failure retry with backoff
// and jitter. A retry sends the same eventId, so consumers dedupe by it.
import { claimDeliveries, gaugeMetric, markDelivered, markDeliveryFailed, oldestPendingAgeSeconds, pollLoop } from '@abuse-desk/db';
import type { ClaimedDelivery, Db, Destination } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface Deliverer {
  destination: Destination;
  /** Delivers every event or throws; a partial success is retried whole (at least once). */
  deliver(events: ClaimedDelivery[]): Promise<void>;
  close(): Promise<void>;
}

export function startPublisher(deps: { db: Db; logger: Logger; clock: { now(): Date }; registry: Registry; workerId: string; leaseSeconds: number; idleMs?: number }, deliverer: Deliverer) {
  const log = deps.logger.child({ role: 'enforcer', destination: deliverer.destination });
  const oldest = gaugeMetric(deps.registry, { name: 'abuse_desk_outbox_oldest_pending_seconds', help: 'Age of the oldest enforcement event not yet delivered, per destination', labelNames: ['destination'] });
  const tick = async () => {
    const now = deps.clock.now();
    oldest.set({ destination: deliverer.destination }, await oldestPendingAgeSeconds(deps.db, deliverer.destination, now));
    const claimed = await claimDeliveries(deps.db, deliverer.destination, { now, limit: 100, leaseSeconds: deps.leaseSeconds, workerId: deps.workerId });
    if (claimed.length === 0) return 0;
    const ids = claimed.map((c) => c.event_id);
    try {
      await deliverer.deliver(claimed);
      await markDelivered(deps.db, deliverer.destination, ids, deps.clock.now());
      log.info({ events: ids, tenants: [...new Set(claimed.map((c) => c.tenant_id))] }, 'enforcement.delivered');
    } catch (err) {
      const tries = Math.max(...claimed.map((c) => c.tries));
      await markDeliveryFailed(deps.db, deliverer.destination, ids, tries, err instanceof Error ? err.message : String(err), deps.clock.now());
      log.warn({ err, events: ids, tries }, 'enforcement.delivery_failed');
      return 0; // back off until the next due time instead of spinning
    }
    return claimed.length;
  };
  const loop = pollLoop({ name: `publisher-${deliverer.destination}`, idleMs: deps.idleMs ?? 500, tick, onError: (err) => log.error({ err }, 'enforcement.tick.failed') });
  return {
    nudge: loop.nudge,
    stop: async () => {
      await loop.stop();
      await deliverer.close();
    },
  };
}
