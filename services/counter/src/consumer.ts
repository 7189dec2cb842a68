// The Kafka verdict consumer (SPEC §2, §4; issue #3). Exactly-once effect on Postgres: a batch's counts,
// dedupe keys, dead letters, trips and the partition's next offset commit in one transaction, and the
// stored offset — read under a row lock in that transaction — decides which messages are new. So a
// crash, a rebalance or a zombie consumer can neither lose nor double count. Offsets are committed to
// Kafka too, after Postgres, so standard lag tools show the group's lag.
import type { Config } from '@abuse-desk/config';
import { Verdict, verdictProblem } from '@abuse-desk/contracts';
import { KnownTenants, counterMetric, countVerdicts, gaugeMetric, histogramMetric, lockStoredOffset, storeDeadLetters, storeOffset, storedOffsets, ticketsOpenedMetric, verdictsMetric } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import { Kafka } from 'kafkajs';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { kafkaLogCreator } from './kafka-log.js';

export interface ConsumerDeps {
  db: Db;
  config: Pick<Config, 'resolutionTimeoutSeconds' | 'enforcementDestinations' | 'dedupeWindowSeconds'> & { kafka: NonNullable<Config['kafka']> };
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
  /** Called after a batch opened tickets, so same-process workers start at once. */
  onWorkQueued?: () => void;
}

const MAX_RAW = 64 * 1024;
/** How old kafkajs's cluster metadata may get before a fetch refreshes it (see launch()). */
const METADATA_MAX_AGE_MS = 5_000;

interface Parsed {
  offset: bigint;
  verdict?: Verdict;
  dead?: { raw: Uint8Array; reason: string };
}

export function parseMessage(value: Buffer | null): Omit<Parsed, 'offset'> {
  if (value === null || value.length === 0) return { dead: { raw: new Uint8Array(), reason: 'empty message (no value)' } };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { dead: { raw: value.subarray(0, MAX_RAW), reason: `not JSON: ${(err as Error).message}` } };
  }
  const parsed = Verdict.safeParse(json);
  if (!parsed.success) return { dead: { raw: value.subarray(0, MAX_RAW), reason: verdictProblem(parsed.error) } };
  return { verdict: parsed.data };
}

export async function startVerdictConsumer(deps: ConsumerDeps) {
  const { kafka: k } = deps.config;
  const log = deps.logger.child({ role: 'counter', topic: k.verdictTopic, groupId: k.groupId });
  const kafka = new Kafka({ clientId: 'abuse-desk-counter', brokers: k.brokers, logCreator: kafkaLogCreator(log), retry: { retries: 10 } });

  const verdicts = verdictsMetric(deps.registry);
  const opened = ticketsOpenedMetric(deps.registry);
  const deadLetters = counterMetric(deps.registry, { name: 'abuse_desk_dead_letters_total', help: 'Messages stored as dead letters, by source', labelNames: ['source'] });
  const lag = gaugeMetric(deps.registry, { name: 'abuse_desk_kafka_consumer_lag', help: 'Messages behind the high watermark, per partition', labelNames: ['topic', 'partition'] });
  const batchSize = histogramMetric(deps.registry, { name: 'abuse_desk_counter_batch_size', help: 'Messages per consumed batch', buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 20000] });
  const batchSeconds = histogramMetric(deps.registry, { name: 'abuse_desk_counter_batch_seconds', help: 'Time to count one batch (parse, transaction, commit)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
  const paused = gaugeMetric(deps.registry, { name: 'abuse_desk_counter_paused', help: '1 while counting is paused because the database is failing' });

  const knownTenants = new KnownTenants();
  let dbFailing: string | null = null;
  let crashed: string | null = null;
  let running = true;

  // On assignment, start each partition where Postgres says it stopped (it may be ahead of Kafka's
  // committed offset if we died between the two commits). Correctness does not depend on this seek:
  // handleBatch skips what Postgres has already seen.
  const onJoin = (consumer: Consumer) => async (e: { payload: { memberAssignment: unknown } }) => {
    const assigned = (e.payload.memberAssignment as Record<string, number[]>)[k.verdictTopic] ?? [];
    log.info({ partitions: assigned }, 'counter.partitions.assigned');
    try {
      const stored = await storedOffsets(deps.db, k.groupId, k.verdictTopic);
      for (const partition of assigned) {
        const next = stored.get(partition);
        if (next !== undefined) consumer.seek({ topic: k.verdictTopic, partition, offset: next.toString() });
      }
    } catch (err) {
      log.warn({ err }, 'counter.seek.skipped');
    }
  };

  const handleBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    if (batch.messages.length === 0) return;
    const started = process.hrtime.bigint();
    const partition = batch.partition;
    const parsed: Parsed[] = batch.messages.map((m) => ({ offset: BigInt(m.offset), ...parseMessage(m.value) }));
    const last = parsed[parsed.length - 1]!.offset;

    let attempt = 0;
    for (;;) {
      if (!isRunning() || isStale()) return; // rebalanced away: the new owner reads from the stored offset
      try {
        const now = deps.clock.now();
        const outcome = await deps.db.transaction().execute(async (trx) => {
          // The row lock fences a zombie consumer of the same partition; the stored offset says what is new.
          const from = await lockStoredOffset(trx, { groupId: k.groupId, topic: k.verdictTopic, partition });
          const fresh = parsed.filter((p) => p.offset >= from);
          if (fresh.length === 0) return null;
          const good = fresh.flatMap((p) => (p.verdict ? [p.verdict] : []));
          const dead = fresh.filter((p) => p.dead);
          const result = await countVerdicts(trx, good, { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, actor: 'system:counter', destinations: deps.config.enforcementDestinations, dedupeWindowSeconds: deps.config.dedupeWindowSeconds, knownTenants });
          await storeDeadLetters(trx, dead.map((d) => ({ source: 'kafka', topic: batch.topic, partition, offset: d.offset.toString(), raw: d.dead!.raw, reason: d.dead!.reason, receivedAt: now })));
          await storeOffset(trx, { groupId: k.groupId, topic: k.verdictTopic, partition, nextOffset: last + 1n, now });
          return { result, dead: dead.length, skipped: parsed.length - fresh.length };
        });
        if (outcome) knownTenants.addAll(outcome.result.newTenants); // committed: they exist
        if (dbFailing) log.info({ partition }, 'counter.database.recovered');
        dbFailing = null;
        paused.set(0);
        if (outcome) {
          for (const [verdict, n] of Object.entries(outcome.result.acceptedByVerdict)) verdicts.inc({ source: 'kafka', result: 'counted', verdict }, n);
          verdicts.inc({ source: 'kafka', result: 'duplicate', verdict: 'any' }, outcome.result.duplicates);
          verdicts.inc({ source: 'kafka', result: 'rejected', verdict: 'any' }, outcome.dead);
          deadLetters.inc({ source: 'kafka' }, outcome.dead);
          if (outcome.dead) log.warn({ partition, count: outcome.dead }, 'counter.dead_letters.stored');
          if (outcome.result.opened.length) {
            opened.inc({ source: 'kafka' }, outcome.result.opened.length);
            log.info({ partition, tickets: outcome.result.opened }, 'tickets.opened');
            deps.onWorkQueued?.();
          }
        }
        break;
      } catch (err) {
        // Postgres is slow or down: keep this partition where it is, keep the group membership alive
        // with heartbeats, and try again with backoff. Nothing is committed to Kafka meanwhile.
        attempt += 1;
        dbFailing = err instanceof Error ? err.message : String(err);
        paused.set(1);
        const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        log.error({ err, partition, attempt, retryInMs: delay }, 'counter.batch.failed');
        const until = Date.now() + delay;
        while (Date.now() < until && running) {
          await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
          await heartbeat().catch(() => undefined);
        }
        if (!running) return;
      }
    }
    resolveOffset(last.toString());
    await current.commitOffsets([{ topic: batch.topic, partition, offset: (last + 1n).toString() }]).catch((err: unknown) => {
      // Postgres already holds the truth; a failed Kafka commit only makes lag tools lag.
      log.warn({ err, partition }, 'counter.kafka.commit_failed');
    });
    const high = BigInt(batch.highWatermark);
    lag.set({ topic: batch.topic, partition: String(partition) }, Number(high > last + 1n ? high - last - 1n : 0n));
    batchSize.observe(batch.messages.length);
    batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    await heartbeat().catch(() => undefined);
  };

  // kafkajs restarts itself after retriable errors only; after any other crash (a broker answering a
  // group request with an error, say) we build a new consumer after a backoff, so counting never stops
  // for good while the process lives. Postgres offsets make the restart exact.
  let current!: Consumer;
  let restarts = 0;
  const launch = async (): Promise<void> => {
    // Short fetch waits and heartbeats make a rebalance (a counter joining or dying) settle in seconds.
    // metadataMaxAge: kafkajs 2.2.4 does not refresh its metadata when a partition leader's broker refuses
    // connections; its fetcher keeps retrying the dead broker until the metadata is older than this (kafkajs's
    // default is 5 min). At 5 s, a partition whose leader died is read from the new leader within seconds
    // of the controller moving it (test/src/kafka-failover.test.ts); the cost is one Metadata request per 5 s.
    const consumer = kafka.consumer({
      groupId: k.groupId,
      metadataMaxAge: METADATA_MAX_AGE_MS,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      // A fetch holds at most 4 MB per broker (1 MB, some 4,000 verdicts, per partition): large enough
      // batches that a transaction's statements are shared by thousands of verdicts, small enough that
      // a counter catching up on a backlog of 12 partitions stays under 300 MB (bench/counter; at 16 MB it
      // peaked at 457 MB).
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 4 * 1024 * 1024,
    });
    current = consumer;
    let replaced = false;
    consumer.on(consumer.events.GROUP_JOIN, onJoin(consumer));
    consumer.on(consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: Error; restart: boolean };
      log.error({ err: error, restart }, 'counter.kafka.crashed');
      if (restart || !running) return;
      replaced = true;
      crashed = error.message;
      relaunch(consumer);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [k.verdictTopic], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 4, eachBatch: handleBatch });
    } catch (err) {
      // The first launch fails the process start (the caller reports it); a rebuild tries again later.
      if (restarts === 0) throw err;
      log.error({ err, restarts }, 'counter.kafka.restart_failed');
      crashed = err instanceof Error ? err.message : String(err);
      if (!replaced) relaunch(consumer);
      return;
    }
    // A first join that fails is reported through CRASH before run() resolves: this consumer is already
    // being replaced, so it must not clear the crash that /readyz reports nor claim to have started.
    if (replaced) return;
    crashed = null;
    log.info({ brokers: k.brokers, restarts }, 'counter.kafka.started');
    // Started cleanly: a later crash backs off from the start again.
    restarts = 0;
  };
  /** Replaces a crashed consumer after a backoff that grows with each failed rebuild (up to 30 s). */
  const relaunch = (old: Consumer) => {
    restarts += 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts, 6));
    setTimeout(() => {
      if (!running) return;
      void old
        .disconnect()
        .catch(() => undefined)
        .then(() => launch())
        .catch((err: unknown) => log.error({ err }, 'counter.kafka.restart_failed'));
    }, delay);
  };
  await launch();

  return {
    /** Readiness: the consumer runs and its last database write did not fail. */
    readiness: async () => {
      if (crashed) throw new Error(`kafka consumer stopped: ${crashed}`);
      if (dbFailing) throw new Error(`counting paused, database failing: ${dbFailing}`);
    },
    stop: async () => {
      running = false;
      await current.disconnect();
    },
  };
}
