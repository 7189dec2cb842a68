// The counter role: verdicts → per-tenant counts → tickets. HTTP ingest (api role) and the Kafka consumer
// share countVerdicts from @abuse-desk/db. This role runs the Kafka consumer when KAFKA_BROKERS is set,
// and prunes dedupe keys older than VERDICT_DEDUPE_RETENTION_SECONDS.
import type { Config } from '@abuse-desk/config';
import { pollLoop, pruneDedupeKeys } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { startVerdictConsumer } from './consumer.js';

export { parseMessage } from './consumer.js';

export interface CounterDeps {
  db: Db;
  config: Pick<Config, 'kafka' | 'resolutionTimeoutSeconds' | 'dedupeRetentionSeconds' | 'enforcementDestinations'>;
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
  onWorkQueued?: () => void;
}

export async function startCounter(deps: CounterDeps) {
  const log = deps.logger.child({ role: 'counter' });
  const kafka = deps.config.kafka;
  const consumer = kafka ? await startVerdictConsumer({ ...deps, config: { ...deps.config, kafka } }) : null;
  if (!consumer) log.info('counter.idle: KAFKA_BROKERS is not set; verdicts arrive through POST /v1/verdicts');

  // Pruning runs in slices so it never holds long locks; a busy tick goes again at once.
  const prune = pollLoop({
    name: 'dedupe-prune',
    idleMs: 60_000,
    tick: async () => {
      const cutoff = new Date(deps.clock.now().getTime() - deps.config.dedupeRetentionSeconds * 1000);
      const n = await pruneDedupeKeys(deps.db, cutoff);
      if (n) log.info({ pruned: n, cutoff }, 'counter.dedupe.pruned');
      return n;
    },
    onError: (err) => log.error({ err }, 'counter.dedupe.prune_failed'),
  });

  return {
    readiness: consumer ? [{ name: 'kafka', check: consumer.readiness }] : [],
    stop: async () => {
      await prune.stop();
      await consumer?.stop();
    },
  };
}
