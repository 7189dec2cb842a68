// The counter role: verdicts → per-tenant counts → tickets. HTTP ingest (api role) and the Kafka
// consumer share countVerdicts from @abuse-desk/db; this role runs the Kafka consumer when
// KAFKA_BROKERS is set.
import type { Config } from '@abuse-desk/config';
import type { Db } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface CounterDeps {
  db: Db;
  config: Pick<Config, 'kafka' | 'resolutionTimeoutSeconds'>;
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
}

export function startCounter(deps: CounterDeps) {
  const log = deps.logger.child({ role: 'counter' });
  if (!deps.config.kafka) {
    log.info('counter.idle: KAFKA_BROKERS is not set; verdicts arrive through POST /v1/verdicts');
  } else {
    log.warn({ brokers: deps.config.kafka.brokers }, 'counter.kafka.unavailable: Kafka consumption is not built yet; verdicts arrive through POST /v1/verdicts');
  }
  return { ready: () => true, stop: async () => {} };
}
