// Delivers enforcement events from the outbox to one destination, at least once and in per-tenant
// order: claim the head event of each tenant, deliver, mark delivered; on failure retry with backoff
// and jitter. A retry sends the same eventId, so consumers dedupe by it.
import { claimDeliveries, gaugeMetric, markDelivered, markDeliveryFailed, oldestPendingAgeSeconds, pollLoop } from '@abuse-desk/db';
import type { ClaimedDelivery, Db, Destination } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface Deliverer {
  destination: Destination;
  /**
   * Delivers the events: returns which were delivered and which failed (with why), or throws when the
   * whole batch failed. A retry re-sends the same event (at least once).
   */
  deliver(events: ClaimedDelivery[]): Promise<{ delivered: string[]; failed: { id: string; error: string }[] } | void>;
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
    let result: { delivered: string[]; failed: { id: string; error: string }[] };
    try {
      result = (await deliverer.deliver(claimed)) ?? { delivered: ids, failed: [] };
    } catch (err) {
      result = { delivered: [], failed: ids.map((id) => ({ id, error: err instanceof Error ? err.message : String(err) })) };
    }
    await markDelivered(deps.db, deliverer.destination, result.delivered, deps.clock.now());
    if (result.delivered.length) log.info({ events: result.delivered, tenants: [...new Set(claimed.filter((c) => result.delivered.includes(c.event_id)).map((c) => c.tenant_id))] }, 'enforcement.delivered');
    for (const f of result.failed) {
      const tries = claimed.find((c) => c.event_id === f.id)?.tries ?? 1;
      await markDeliveryFailed(deps.db, deliverer.destination, [f.id], tries, f.error, deps.clock.now());
      log.warn({ eventId: f.id, tries, error: f.error }, 'enforcement.delivery_failed');
    }
    // Back off after failures (each failed event waits for its due time) instead of spinning.
    return result.delivered.length;
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
