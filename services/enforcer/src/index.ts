// The enforcer role: suspends tickets whose resolution deadline passed. Each suspension — ticket state,
// tenant outbound status, enforcement event (outbox) and notice emails — is one transaction; several
// enforcers share the due tickets through SKIP LOCKED. A deadline that passed while no enforcer ran is
// enforced on the next sweep.
import type { Config } from '@abuse-desk/config';
import { pollLoop, suspendDueTickets } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface EnforcerDeps {
  db: Db;
  config: Pick<Config, 'resolutionTimeoutSeconds' | 'enforcementDestinations'>;
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
  idleMs?: number;
}

const BATCH = 100;

export { startPublisher } from './publisher.js';
export type { Deliverer } from './publisher.js';
export { createKafkaDeliverer } from './kafka.js';
export { createWebhookDeliverer, signBody } from './webhook.js';

export function startEnforcer(deps: EnforcerDeps) {
  const log = deps.logger.child({ role: 'enforcer' });
  const suspensions = new Counter({ name: 'abuse_desk_suspensions_total', help: 'Tenants suspended because a resolution deadline passed', registers: [deps.registry] });
  const lateness = new Histogram({
    name: 'abuse_desk_suspension_lateness_seconds',
    help: 'Time from a resolution deadline to its suspension being committed',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [deps.registry],
  });
  const tick = async () => {
    const now = deps.clock.now();
    const suspended = await suspendDueTickets(deps.db, { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, limit: BATCH, actor: 'system:enforcer', destinations: deps.config.enforcementDestinations });
    const committedAt = deps.clock.now();
    for (const { ticket: t, deadlineAt } of suspended) {
      suspensions.inc();
      lateness.observe(Math.max(0, (committedAt.getTime() - deadlineAt.getTime()) / 1000));
      log.info({ ticketNumber: t.number, tenantId: t.tenant_id, deadlineAt }, 'ticket.suspended');
    }
    return suspended.length;
  };
  const loop = pollLoop({ name: 'enforcer', idleMs: deps.idleMs ?? 500, tick, onError: (err) => log.error({ err }, 'enforcer.tick.failed') });
  log.info('enforcer.started');
  return { tick, nudge: loop.nudge, stop: loop.stop };
}
