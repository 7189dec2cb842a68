// Two promises of the README's "Verdicts from Kafka", end to end on a real three-node Kafka cluster:
// the consumer is rebuilt after a non-retriable Kafka error, and offsets reach Kafka only after Postgres,
// so a standard client (kafkajs admin) sees the group's lag — zero when all is counted, growing while
// the database is down.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { testDatabaseUrl } from '@abuse-desk/db/testing';
import { produceWithKcat, startKafkaCluster, verdict, waitUntil } from '@abuse-desk/testkit';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';
import t from 'tap';
import { ROOT, kafkaTopics, prepareService, query } from './harness.js';

const cluster = await startKafkaCluster();
t.teardown(() => cluster.stop());

const message = (tenantId: string, i: number) => ({
  key: tenantId,
  value: JSON.stringify(verdict({ tenantId, messageId: `<${tenantId}-${i}@mail.example>`, verdict: 'clean', at: new Date(), sender: `s@${tenantId}.example` })),
});
/** `n` clean verdicts spread over twenty tenants, so every partition of the topic gets some. */
const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => message(`tenant${(from + i) % 20}`, from + i));

const countedTotal = (url: string) => query<{ n: number }>(url, 'select coalesce(sum(spam + phish + virus + clean), 0)::int as n from counts').then((r) => r[0]!.n);

async function readiness(baseUrl: string) {
  const r = await fetch(`${baseUrl}/readyz`);
  return { status: r.status, checks: ((await r.json()) as { checks: Record<string, string> }).checks };
}

/** The structured log lines of a service process started once by the harness (its first generation). */
function serviceLog(name: string, roles: string): { msg?: string; [k: string]: unknown }[] {
  let text = '';
  try {
    text = readFileSync(path.join(ROOT, 'test-artifacts', 'logs', `${name}.0-${roles}.1.log`), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { msg?: string }];
    } catch {
      return [];
    }
  });
}

/**
 * A group member that uses the kafkajs round-robin protocol name (so the broker lets it into the counter's
 * group) and, as the group's leader, hands itself nothing and every other member an assignment that cannot
 * be decoded. A counter joining after it receives that assignment and fails its join without kafkajs
 * restarting it.
 */
const undecodableAssignments = (topic: string): PartitionAssigner => () => ({
  name: 'RoundRobinAssigner',
  version: 1,
  protocol: ({ topics }) => ({ name: 'RoundRobinAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }),
  assign: async ({ members }) =>
    members.map((m) => {
      const subscribed = AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? [];
      return {
        memberId: m.memberId,
        memberAssignment: subscribed.includes(topic) ? Buffer.from([0, 1, 0]) : AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: {}, userData: Buffer.alloc(0) }),
      };
    }),
});

t.test('after a non-retriable Kafka error the counter rebuilds its consumer: /readyz says it stopped, then recovers, and verdicts produced afterwards are counted', async (t) => {
  const name = 'kafka-rebuild';
  const kafka = await kafkaTopics(cluster, name);
  await cluster.createTopic('intruder-topic', 1);

  // A member that is already in the counter's group leads the next rebalance.
  const intruder = new Kafka({ clientId: 'intruder', brokers: cluster.brokers.split(','), logLevel: logLevel.NOTHING }).consumer({
    groupId: kafka.KAFKA_GROUP_ID,
    partitionAssigners: [undecodableAssignments(kafka.KAFKA_VERDICT_TOPIC)],
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  let intruderJoined = false;
  intruder.on(intruder.events.GROUP_JOIN, () => (intruderJoined = true));
  let intruderGone = false;
  t.teardown(() => (intruderGone ? undefined : intruder.disconnect()));
  await intruder.connect();
  await intruder.subscribe({ topics: ['intruder-topic'] });
  await intruder.run({ eachMessage: async () => undefined });
  await waitUntil(() => intruderJoined, { message: 'the intruding member did not join the group' });

  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, batch(0, 100));

  const svc = await prepareService({ name, arrangement: { engine: 'postgres', processes: 'one' }, roleSets: [['counter']], env: kafka });
  t.teardown(() => svc.stop());
  // start() waits a fixed minute for /readyz to answer 200; each rebalance can take up to a session timeout
  // (10 s), so readiness is polled here with a longer deadline instead.
  void svc.start().catch(() => undefined);

  const crash = await waitUntil(() => serviceLog(name, 'counter').find((l) => l.msg === 'counter.kafka.crashed'), {
    timeoutMs: 60_000,
    message: 'the counter never logged a Kafka crash',
  });
  t.equal(crash['restart'], false, 'kafkajs does not restart the consumer itself after this error');

  const stopped = await waitUntil(
    async () => {
      const r = await readiness(svc.processUrls[0]!).catch(() => null);
      return r && r.status === 503 ? r : null;
    },
    { timeoutMs: 30_000, message: '/readyz never said that the Kafka consumer stopped' },
  );
  t.match(stopped.checks['kafka'], /^kafka consumer stopped: /, "the counter's own check names the crash");

  // Verdicts keep arriving while the consumer is down; then the misbehaving member leaves.
  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, batch(100, 100));
  intruderGone = true;
  await intruder.disconnect();

  await waitUntil(async () => (await readiness(svc.processUrls[0]!)).status === 200, { timeoutMs: 120_000, message: '/readyz did not recover after the misbehaving member left' });
  // After its last crash the counter logs a consumer that joined the group, got every partition and started.
  const rebuilt = await waitUntil(
    () => {
      const log = serviceLog(name, 'counter');
      const after = log.slice(log.map((l) => l.msg).lastIndexOf('counter.kafka.crashed') + 1);
      const assigned = after.find((l) => l.msg === 'counter.partitions.assigned');
      const started = after.find((l) => l.msg === 'counter.kafka.started');
      return assigned && started ? { assigned, started } : null;
    },
    { message: 'the counter never logged a rebuilt consumer that joined the group' },
  );
  t.ok(Number(rebuilt.started['restarts']) >= 1, `the consumer that started is a rebuilt one (restarts: ${String(rebuilt.started['restarts'])})`);
  t.same(rebuilt.assigned['partitions'], [0, 1, 2, 3], 'the rebuilt consumer owns every partition');
  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, batch(200, 100));

  await waitUntil(async () => (await countedTotal(svc.databaseUrl!)) === 300, { timeoutMs: 60_000, message: 'the verdicts were not all counted after the rebuild' });
  t.pass('every verdict, before, during and after the crash, was counted once');
  const ready = await readiness(svc.processUrls[0]!);
  t.equal(ready.status, 200, '/readyz answers 200');
  t.same(ready.checks, { database: 'ok', kafka: 'ok' }, "the counter's check is ok again");
});

/** Per partition: the group's committed offset in Kafka and the topic's end offset, through kafkajs admin. */
async function kafkaOffsets(admin: ReturnType<Kafka['admin']>, topic: string, groupId: string) {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return ends
    .map((e) => ({ partition: e.partition, end: Number(e.high), committed: Number(committed!.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) }))
    .sort((a, b) => a.partition - b.partition);
}

t.test('offsets reach Kafka after PostgreSQL: once counted, the group has no lag; while PostgreSQL is down the committed offsets stay put and the lag shows', async (t) => {
  const name = 'kafka-offsets';
  const kafka = await kafkaTopics(cluster, name);
  const svc = await prepareService({ name, arrangement: { engine: 'postgres', processes: 'one' }, roleSets: [['counter']], env: kafka });
  t.teardown(() => svc.stop());
  await svc.start();
  const admin = new Kafka({ clientId: 'lag-reader', brokers: cluster.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  const offsets = () => kafkaOffsets(admin, kafka.KAFKA_VERDICT_TOPIC, kafka.KAFKA_GROUP_ID);
  await admin.connect();
  t.teardown(() => admin.disconnect());

  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, batch(0, 200));
  await waitUntil(async () => (await countedTotal(svc.databaseUrl!)) === 200, { timeoutMs: 30_000, message: 'the verdicts were not counted' });
  const caughtUp = await waitUntil(
    async () => {
      const o = await offsets();
      return o.every((p) => p.committed === p.end) ? o : null;
    },
    { timeoutMs: 30_000, message: "the group's committed offsets in Kafka never reached the end of the topic" },
  );
  t.ok(caughtUp.length > 1 && caughtUp.every((p) => p.end > 0), `every partition got verdicts (${JSON.stringify(caughtUp)})`);
  t.equal(caughtUp.reduce((a, p) => a + p.end, 0), 200, 'the end offsets cover what was produced');
  t.pass('lag is 0 on every partition once the counter has counted');

  // The outage: no new connections, and the existing ones are cut.
  const dbName = new URL(svc.databaseUrl!).pathname.slice(1);
  const admin_ = testDatabaseUrl(process.env);
  await query(admin_, `alter database ${dbName} with allow_connections false`);
  await query(admin_, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [dbName]);
  t.teardown(() => query(admin_, `alter database ${dbName} with allow_connections true`).then(() => undefined));
  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, batch(200, 200));

  // Wait until the counter has fetched the new verdicts and failed to store them more than once, i.e. it
  // had every chance to commit to Kafka.
  await waitUntil(() => serviceLog(name, 'counter').some((l) => l.msg === 'counter.batch.failed' && Number(l['attempt']) >= 2), {
    timeoutMs: 30_000,
    message: 'the counter never retried a batch during the outage',
  });
  const during = await offsets();
  t.same(
    during.map((p) => p.committed),
    caughtUp.map((p) => p.committed),
    'no committed offset advanced while PostgreSQL was down',
  );
  t.equal(during.reduce((a, p) => a + (p.end - p.committed), 0), 200, 'the lag a standard client sees is the 200 uncounted verdicts');

  await query(admin_, `alter database ${dbName} with allow_connections true`);
  await waitUntil(async () => (await countedTotal(svc.databaseUrl!).catch(() => 0)) === 400, { timeoutMs: 60_000, message: 'counting did not resume after the outage' });
  const after = await waitUntil(
    async () => {
      const o = await offsets();
      return o.every((p) => p.committed === p.end) ? o : null;
    },
    { timeoutMs: 30_000, message: 'the committed offsets did not catch up after the outage' },
  );
  t.equal(after.reduce((a, p) => a + p.committed, 0), 400, 'after the outage the committed offsets cover all 400 verdicts: lag 0');
});
