import { readFileSync } from 'node:fs';
import t from 'tap';
import kafkajs from 'kafkajs';
import { produceWithKcat, readWithKcat } from './kcat.js';
import { startKafkaCluster } from './kafka-cluster.js';
import { waitUntil } from './wait.js';

function rssMb(pid: number | undefined) {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const batch = (name: string, count: number) => Array.from({ length: count }, (_, i) => ({ key: `${name}-${i}`, value: `${name} message ${i}` }));

t.test('a three-node Kafka cluster keeps acks=all writes flowing through a leader kill and a restart', async (t) => {
  const started = Date.now();
  const cluster = await startKafkaCluster({ nodes: 3 });
  const startMs = Date.now() - started;
  const rss = () => [0, 1, 2].map((i) => `${rssMb(cluster.pid(i))} MB`).join(', ');
  t.comment(`Apache Kafka ${cluster.version}, 3 KRaft nodes answered in ${startMs} ms; JVM RSS ${rss()}`);

  // kafkajs's own log, kept for a failure's output (it reports every refused connection to the killed node as an error).
  const clientLog: string[] = [];
  const logCreator = () => ({ namespace, level, log }: kafkajs.LogEntry) => {
    const { message, timestamp, logger: _logger, ...rest } = log;
    clientLog.push(`${timestamp} ${['NOTHING', 'ERROR', 'WARN', '', 'INFO', 'DEBUG'][level]} [${namespace}] ${message} ${JSON.stringify(rest)}`);
  };
  const kafka = new kafkajs.Kafka({ clientId: 'kafka-cluster-test', brokers: cluster.brokers.split(','), logLevel: kafkajs.logLevel.INFO, logCreator });
  // kafkajs fetches from a killed leader until its metadata is refreshed (it does not refresh on a refused
  // connection; only when the metadata is older than metadataMaxAge, default 5 min, or after its retries run
  // out and the consumer restarts), so the consumer refreshes every 2 s.
  const consumer = kafka.consumer({ groupId: 'kafka-cluster-test', metadataMaxAge: 2000 });
  t.teardown(async () => {
    // A kafkajs consumer that restarted after the leader kill can hang in disconnect() (a fresh-clone CI run saw
    // this file pass every assertion and then never end): wait 15 s at most, then stop the cluster regardless.
    const hung = await Promise.race([consumer.disconnect().then(() => false, () => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 15_000).unref())]);
    if (hung) process.stderr.write('kafka-cluster.test: the kafkajs consumer did not disconnect within 15 s; stopping the cluster anyway\n');
    await cluster.stop();
    // A hung kafkajs client keeps retrying with timers and sockets that hold this process open after the last
    // assertion (a fresh-clone CI run saw it then killed by tap's timeout). Every result is written by now: if
    // the process is still alive 10 s later, it ends with the result tap recorded (process.exitCode).
    setTimeout(() => {
      process.stderr.write('kafka-cluster.test: a kafkajs client still held the process open 10 s after the test ended; exiting\n');
      process.exit();
    }, 10_000).unref();
  });
  try {
    const topic = 'verdicts-ha';
    await cluster.createTopic(topic, 12, { replicationFactor: 3, minInsyncReplicas: 2 });
    const { topics } = await cluster.admin().fetchTopicMetadata({ topics: [topic] });
    t.equal(topics[0]!.partitions.length, 12, 'twelve partitions');
    t.ok(
      topics[0]!.partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3),
      'every partition has three replicas, all in sync',
    );
    const configs = await cluster.admin().describeConfigs({ resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
    t.equal(configs.resources[0]!.configEntries[0]!.configValue, '2', 'min.insync.replicas=2 on the topic');

    const produced = [...batch('before', 600)];
    await produceWithKcat(cluster.brokers, topic, produced, { 'enable.idempotence': 'true', acks: 'all' });

    const received = new Map<string, number>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        received.set(key, (received.get(key) ?? 0) + 1);
      },
    });
    const allReceived = (what: string) =>
      waitUntil(() => produced.every((m) => received.has(m.key)), { timeoutMs: 60_000, intervalMs: 100, message: `kafkajs consumer read every message ${what} (${received.size}/${produced.length})` });
    await allReceived('produced before the kill');

    const leader = await cluster.leaderOf(topic, 0);
    t.ok([0, 1, 2].includes(leader), `node ${leader} leads partition 0`);
    await cluster.kill(leader);
    t.notOk(cluster.isRunning(leader), `node ${leader} SIGKILLed`);

    // acks=all with min.insync.replicas=2: the two nodes left take every write once the controller moved the leadership.
    const during = batch('during', 600);
    produced.push(...during);
    await produceWithKcat(cluster.brokers, topic, during, { 'enable.idempotence': 'true', acks: 'all' });
    const newLeader = await waitUntil(async () => {
      const l = await cluster.leaderOf(topic, 0);
      return l !== leader && l >= 0 ? l : undefined;
    }, { timeoutMs: 30_000, message: 'partition 0 led by another node' });
    t.not(newLeader, leader, `node ${newLeader} leads partition 0 after the kill`);
    await allReceived('produced while a node was down');

    await cluster.restart(leader);
    t.ok(cluster.isRunning(leader), `node ${leader} restarted and back in every ISR`);
    const after = batch('after', 600);
    produced.push(...after);
    await produceWithKcat(cluster.brokers, topic, after, { 'enable.idempotence': 'true', acks: 'all' });
    await allReceived('produced after the restart');

    // A kafkajs consumer is at-least-once: when it gives up on the dead node and restarts (see above), it reads
    // again from its last committed offset. Exactly-once is the log's property, checked with kcat below.
    t.ok(produced.every((m) => (received.get(m.key) ?? 0) >= 1), 'the consumer saw every message at least once');
    t.comment(`messages the consumer saw again after a restart: ${[...received.values()].filter((n) => n > 1).length}`);
    t.equal(received.size, produced.length, 'nothing else arrived');
    const log = await readWithKcat(cluster.brokers, topic);
    t.equal(log.length, produced.length, 'the log holds each message once (kcat reads it back)');
    t.same(new Set(log.map((m) => `${m.key}\t${m.value}`)), new Set(produced.map((m) => `${m.key}\t${m.value}`)), 'keys and values as produced');
    t.comment(`JVM RSS after the run: ${rss()}; total ${Date.now() - started} ms`);
  } catch (err) {
    for (const i of [0, 1, 2]) t.comment(cluster.logTail(i, 30));
    t.comment(`--- kafkajs consumer log ---\n${clientLog.slice(-60).join('\n')}`);
    throw err;
  }
});
