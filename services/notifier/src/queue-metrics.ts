// The call queue on /metrics (issue 14): how many calls wait for a slot and how long the oldest has
// waited, read from the database at each scrape — the same figures whichever process is asked.
import { callQueueStats, gaugeMetric } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Registry } from 'prom-client';

export function registerCallQueueMetrics(registry: Registry, db: Db, clock: { now(): Date }) {
  let last: Promise<{ length: number; oldestAgeSeconds: number }> | null = null;
  // One query per scrape serves both gauges.
  const stats = () => (last ??= callQueueStats(db, clock.now()).finally(() => setTimeout(() => (last = null), 0)));
  gaugeMetric(registry, {
    name: 'abuse_desk_call_queue_length',
    help: 'Calls due and waiting to be placed (paced by TWILIO_CALLS_PER_SECOND)',
    async collect() {
      this.set((await stats()).length);
    },
  });
  gaugeMetric(registry, {
    name: 'abuse_desk_call_queue_oldest_seconds',
    help: 'How long the oldest call waiting to be placed has waited, in seconds (0 when none waits)',
    async collect() {
      this.set((await stats()).oldestAgeSeconds);
    },
  });
}
