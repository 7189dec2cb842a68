// The call queue on /metrics (issue 14): how many calls wait for a slot and how long the oldest has
// waited, read from the database at each scrape — the same figures whichever process is asked. A scrape
// never waits on the database for long or fails with it: while the database is away (the counter's
// outage metrics must still be readable) the gauges keep their last value.
import { callQueueStats, gaugeMetric } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Registry } from 'prom-client';

const SCRAPE_BUDGET_MS = 1000;

export function registerCallQueueMetrics(registry: Registry, db: Db, clock: { now(): Date }) {
  let pending: Promise<{ length: number; oldestAgeSeconds: number } | null> | null = null;
  // One query per scrape serves both gauges (their collects run together).
  const stats = () =>
    (pending ??= Promise.race([
      callQueueStats(db, clock.now()).catch(() => null),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), SCRAPE_BUDGET_MS).unref()),
    ]).finally(() => setTimeout(() => (pending = null), 0)));
  gaugeMetric(registry, {
    name: 'abuse_desk_call_queue_length',
    help: 'Calls due and waiting to be placed (paced by TWILIO_CALLS_PER_SECOND)',
    async collect() {
      const s = await stats();
      if (s) this.set(s.length);
    },
  });
  gaugeMetric(registry, {
    name: 'abuse_desk_call_queue_oldest_seconds',
    help: 'How long the oldest call waiting to be placed has waited, in seconds (0 when none waits)',
    async collect() {
      const s = await stats();
      if (s) this.set(s.oldestAgeSeconds);
    },
  });
}
