// The counter role: verdicts → per-tenant counts → tickets. HTTP ingest (api role) and the Kafka consumer
// share countVerdicts from @abuse-desk/db. This role runs the Kafka consumer when KAFKA_BROKERS is set,
// and keeps the counting tables: the next dedupe partition made ahead, dedupe partitions older than
// VERDICT_DEDUPE_WINDOW_SECONDS and count days older than COUNTS_RETENTION_DAYS dropped whole; dead letters
// beyond DEAD_LETTER_RETENTION_DAYS or DEAD_LETTERS_MAX deleted.
import type { Config } from '@abuse-desk/config';
import { forgetDeadLetters, keepPartitions, pollLoop } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { startVerdictConsumer } from './consumer.js';

export { parseMessage } from './consumer.js';

export interface CounterDeps {
  db: Db;
  config: Pick<Config, 'kafka' | 'resolutionTimeoutSeconds' | 'dedupeWindowSeconds' | 'countsRetentionDays' | 'deadLetters' | 'enforcementDestinations'>;
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
  onWorkQueued?: () => void;
}

/** Dead letters deleted per statement, and how often the limit is checked. */
const DEAD_LETTER_BATCH = 10_000;
const DEAD_LETTER_CHECK_MS = 5000;

export async function startCounter(deps: CounterDeps) {
  const log = deps.logger.child({ role: 'counter' });
  const kafka = deps.config.kafka;
  const consumer = kafka ? await startVerdictConsumer({ ...deps, config: { ...deps.config, kafka } }) : null;
  if (!consumer) log.info('counter.idle: KAFKA_BROKERS is not set; verdicts arrive through POST /v1/verdicts');

  // Once a minute; the tick reports no work, so the loop waits its idle interval between runs.
  const upkeep = pollLoop({
    name: 'counting-partitions',
    idleMs: 60_000,
    tick: async () => {
      const done = await keepPartitions(deps.db, deps.clock.now(), { dedupeWindowSeconds: deps.config.dedupeWindowSeconds, countsRetentionDays: deps.config.countsRetentionDays });
      for (const d of done.dropped) log.info({ table: d.table, from: new Date(d.range.from * 60_000), to: new Date(d.range.to * 60_000) }, 'counter.partition.dropped');
      if (done.dropped.length) log.info({ dropped: done.dropped.length, ms: Math.round(done.dropMs) }, 'counter.partitions.pruned');
      if (done.made) log.info({ made: done.made }, 'counter.partitions.made');
      return 0;
    },
    onError: (err) => log.error({ err }, 'counter.partitions.failed'),
  });

  // Dead letters: a flood of garbage (a producer gone wrong, up to the full verdict rate) stops at about
  // DEAD_LETTERS_MAX rows. Checked every few seconds (two index-range deletes); while a batch comes back
  // full the loop goes again at once.
  const deadLetters = pollLoop({
    name: 'dead-letters',
    idleMs: DEAD_LETTER_CHECK_MS,
    tick: async () => {
      const { retentionDays, max } = deps.config.deadLetters;
      const forgotten = await forgetDeadLetters(deps.db, { before: new Date(deps.clock.now().getTime() - retentionDays * 86_400_000), keep: max, limit: DEAD_LETTER_BATCH });
      if (forgotten) log.info({ deleted: forgotten, retentionDays, max }, 'counter.dead_letters.forgotten');
      return forgotten >= DEAD_LETTER_BATCH ? 1 : 0;
    },
    onError: (err) => log.error({ err }, 'counter.dead_letters.failed'),
  });

  return {
    readiness: consumer ? [{ name: 'kafka', check: consumer.readiness }] : [],
    stop: async () => {
      await upkeep.stop();
      await deadLetters.stop();
      await consumer?.stop();
    },
  };
}
