// Enforcement events to KAFKA_CONTROL_TOPIC (SPEC §9): keyed by tenant, acknowledged by all in-sync
// replicas before the delivery row is marked delivered.
import type { Config } from '@abuse-desk/config';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { Deliverer } from './publisher.js';

export async function createKafkaDeliverer(kafka: NonNullable<Config['kafka']>, logger: Logger): Promise<Deliverer> {
  const client = new Kafka({
    clientId: 'abuse-desk-enforcer',
    brokers: kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...extra } = entry;
      (level === logLevel.ERROR ? logger.error.bind(logger) : logger.warn.bind(logger))({ kafka: true, ...extra }, `kafka: ${message}`);
    },
  });
  const producer = client.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  return {
    destination: 'kafka',
    deliver: async (events) => {
      await producer.send({
        topic: kafka.controlTopic,
        acks: -1,
        messages: events.map((e) => ({ key: e.tenant_id, value: JSON.stringify(e.payload), headers: { 'event-id': e.event_id } })),
      });
    },
    close: () => producer.disconnect(),
  };
}
