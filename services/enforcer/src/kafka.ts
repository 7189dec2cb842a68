// Enforcement events to KAFKA_CONTROL_TOPIC (SPEC §9): keyed by tenant, written by an idempotent producer
// and acknowledged by all in-sync replicas before the delivery row is marked delivered.
import type { Config } from '@abuse-desk/config';
import { Kafka, logLevel } from 'kafkajs';
import type { Producer, ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import type { Deliverer } from './publisher.js';

/**
 * The control topic's producer. Idempotent: a batch kafkajs re-sends after a lost acknowledgement is
 * written once (the broker drops it by producer id and sequence); one request in flight keeps a tenant's
 * events in order through those re-sends. Retries are bounded, unlike kafkajs's idempotent default of
 * retrying for ever, so an unavailable cluster shows as a `retrying` delivery with its error and the
 * outbox's own backoff takes over. metadataMaxAge: kafkajs refreshes its metadata when a send fails, and
 * at least every 5 s, so a new partition leader is found quickly after a broker dies.
 */
export const CONTROL_PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  retry: { retries: 5 },
  metadataMaxAge: 5_000,
  allowAutoTopicCreation: true,
};

export async function createKafkaDeliverer(kafka: NonNullable<Config['kafka']>, logger: Logger): Promise<Deliverer> {
  const client = new Kafka({
    clientId: 'abuse-desk-enforcer',
    brokers: kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...extra } = entry;
      // Expected with bounded retries (see CONTROL_PRODUCER); the outbox re-sends what the client gave up on.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      (level === logLevel.ERROR ? logger.error.bind(logger) : logger.warn.bind(logger))({ kafka: true, ...extra }, `kafka: ${message}`);
    },
  });
  const connected = async () => {
    const p = client.producer(CONTROL_PRODUCER);
    await p.connect();
    return p;
  };
  let producer: Producer | null = await connected();
  logger.info({ idempotent: CONTROL_PRODUCER.idempotent, acks: 'all', maxInFlightRequests: CONTROL_PRODUCER.maxInFlightRequests }, 'enforcer.kafka.producer');
  return {
    destination: 'kafka',
    deliver: async (events) => {
      producer ??= await connected();
      try {
        await producer.send({
          topic: kafka.controlTopic,
          acks: -1,
          messages: events.map((e) => ({ key: e.tenant_id, value: JSON.stringify(e.payload), headers: { 'event-id': e.event_id } })),
        });
      } catch (err) {
        // A send the client gave up on may still have been written. Its sequence numbers were never
        // acknowledged, so the next send of this producer would reuse them, and the broker would take a
        // different batch of the same size as that one's duplicate and drop it. A new producer (a new
        // producer id) starts its sequences afresh; the outbox re-sends these events (consumers dedupe by eventId).
        const old = producer;
        producer = null;
        await old.disconnect().catch(() => undefined);
        throw err;
      }
    },
    close: async () => {
      await producer?.disconnect();
    },
  };
}
