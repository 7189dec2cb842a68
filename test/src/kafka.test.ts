// Counting from Kafka (issue #3) on a real three-node Apache Kafka cluster (one per file, topics with
// replication factor 3 and min.insync.replicas=2) and PostgreSQL: verdicts produced by kcat (a client that
// is not ours), a poison message between good ones, two counter processes sharing the partitions with one
// SIGKILLed mid-stream, and enforcement events read back from the control topic.
import { produceWithKcat, readWithKcat, startKafkaCluster, startSmtpSink, verdict, waitUntil } from '@abuse-desk/testkit';
import type { VerdictOverrides } from '@abuse-desk/testkit';
import t from 'tap';
import { client, kafkaTopics, prepareService, query } from './harness.js';
import { testDatabaseUrl } from '@abuse-desk/db/testing';

const testAdminUrl = () => testDatabaseUrl(process.env);
const cluster = await startKafkaCluster();
t.teardown(() => cluster.stop());

/** A verdict as a Kafka message keyed by its tenant; its messageId follows `i`, so the same `i` is a repeat. */
const message = (tenantId: string, i: number, kind: VerdictOverrides['verdict'], minutesAgo = 0) => ({
  key: tenantId,
  value: JSON.stringify(verdict({ tenantId, messageId: `<${tenantId}-${i}@mail.example>`, verdict: kind, at: new Date(Date.now() - minutesAgo * 60_000), sender: `s${i % 3}@${tenantId}.example` })),
});

t.test('verdicts produced by kcat are counted like HTTP ingest, a poison message becomes a dead letter, and the suspension reaches the control topic', async (t) => {
  const kafka = await kafkaTopics(cluster, 'kafka-basic');
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const svc = await prepareService({
    name: 'kafka-basic',
    arrangement: { engine: 'postgres', processes: 'one' },
    env: { ...kafka, SMTP_URL: sink.url, RESOLUTION_TIMEOUT_SECONDS: '2', CALL_RING_SECONDS: '1', WORK_LEASE_SECONDS: '3' },
  });
  t.teardown(() => svc.stop());
  await svc.start();
  const api = client(svc.baseUrl);

  const good = [
    ...Array.from({ length: 60 }, (_, i) => message('kspam', i, i % 6 === 0 ? 'clean' : 'spam')),
    ...Array.from({ length: 40 }, (_, i) => message('kclean', i, 'clean')),
  ];
  const poison = [{ key: 'kspam', value: '{"tenantId":"kspam","verdict":"spam"' }, { key: 'kspam', value: '{"tenantId":"kspam","messageId":"x","verdict":"bacon","occurredAt":"2026-11-22T10:15:00Z"}' }];
  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, [...good.slice(0, 30), ...poison, ...good.slice(30), ...good.slice(0, 10)]);

  const dead = await waitUntil(async () => {
    const r = await api('GET', '/v1/dead-letters');
    return r.body.items.length === 2 ? r.body.items : null;
  }, { message: 'the poison messages did not become dead letters' });
  t.match(dead.map((d: any) => d.reason).sort(), [/^not JSON/, /verdict/]);
  t.ok(dead.every((d: any) => d.topic === kafka.KAFKA_VERDICT_TOPIC && d.offset !== null && d.partition !== null), 'dead letters keep their position');

  const rows = await waitUntil(async () => {
    const r = await query<{ tenant_id: string; n: number }>(svc.databaseUrl!, 'select tenant_id, sum(spam + phish + virus + clean)::int as n from counts group by tenant_id order by tenant_id');
    return r.reduce((a, x) => a + x.n, 0) === 100 ? r : null;
  }, { message: 'not every verdict was counted' });
  t.same(rows, [{ tenant_id: 'kclean', n: 40 }, { tenant_id: 'kspam', n: 60 }], 'each distinct verdict counted once; the ten repeats were ignored');

  const tickets = (await api('GET', '/v1/tickets?tenantId=kspam')).body.items;
  t.equal(tickets.length, 1, 'the spamming tenant has one ticket');
  t.equal((await api('GET', '/v1/tickets?tenantId=kclean')).body.items.length, 0);

  const events = await waitUntil(async () => {
    const msgs = await readWithKcat(cluster.brokers, kafka.KAFKA_CONTROL_TOPIC);
    return msgs.length >= 1 ? msgs : null;
  }, { timeoutMs: 30_000, message: 'no enforcement event on the control topic' });
  t.equal(events[0]!.key, 'kspam');
  const event = JSON.parse(events[0]!.value);
  t.match(event, { type: 'outbound.suspended', tenantId: 'kspam', ticketNumber: tickets[0].number, reason: /no resolution within 2 s/ });
  t.match(event.eventId, /^[0-9a-f-]{36}$/);
  const detail = (await api('GET', `/v1/tickets/${tickets[0].number}`)).body;
  await waitUntil(async () => {
    const d = (await api('GET', `/v1/tickets/${tickets[0].number}`)).body;
    return d.enforcementEvents[0].deliveries.find((x: any) => x.destination === 'kafka').status === 'delivered';
  }, { message: 'the kafka delivery was not marked delivered' });
  t.equal(detail.enforcementEvents[0].eventId, event.eventId, 'the event on the topic is the outbox event');
  const metrics = await (await fetch(`${svc.baseUrl}/metrics`)).text();
  t.match(metrics, /abuse_desk_dead_letters_total\{source="kafka"\} 2/);
  t.match(metrics, new RegExp(`abuse_desk_kafka_consumer_lag\\{topic="${kafka.KAFKA_VERDICT_TOPIC}",partition="\\d"\\} 0`));
});

t.test('two counters share the partitions; one is SIGKILLed mid-stream and restarted; counts equal the distinct verdicts and no tenant has two tickets', async (t) => {
  const kafka = await kafkaTopics(cluster, 'kafka-kill');
  const svc = await prepareService({
    name: 'kafka-kill',
    arrangement: { engine: 'postgres', processes: 'four' },
    roleSets: [['api', 'notifier', 'enforcer'], ['counter'], ['counter']],
    env: { ...kafka, RESOLUTION_TIMEOUT_SECONDS: '3600', CALL_RING_SECONDS: '30' },
  });
  t.teardown(() => svc.stop());
  await svc.start();

  const tenants = Array.from({ length: 40 }, (_, i) => `tenant${String(i).padStart(2, '0')}`);
  const spammy = new Set(tenants.slice(0, 5));
  const total = 16_000;
  const stream = Array.from({ length: total }, (_, i) => {
    const tenant = tenants[i % tenants.length]!;
    return message(tenant, i, spammy.has(tenant) && i % 3 !== 0 ? 'spam' : 'clean', (i % 5) * 0.5);
  });
  // Every 20th message is sent again later: a producer retry.
  const repeats = stream.filter((_, i) => i % 20 === 0);
  const chunks = 8;
  let killed = false;
  for (let c = 0; c < chunks; c++) {
    await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, stream.slice((c * total) / chunks, ((c + 1) * total) / chunks));
    if (c === 3) {
      // Kill one counter while it is in the middle of the stream, then bring it back.
      await waitUntil(async () => {
        const r = await query<{ n: number }>(svc.databaseUrl!, 'select coalesce(sum(spam + phish + virus + clean), 0)::int as n from counts');
        return r[0]!.n > 0;
      }, { timeoutMs: 60_000, message: 'nothing was counted' });
      await svc.killProcess(1);
      killed = true;
      await svc.startProcess(1);
    }
  }
  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, repeats);
  t.ok(killed);

  // The repeats come last and change no count: wait until the stored offsets cover every message, then the
  // counts must be exact.
  await waitUntil(async () => {
    const offsets = await query<{ n: string }>(svc.databaseUrl!, 'select coalesce(sum(next_offset), 0)::text as n from kafka_offsets');
    return Number(offsets[0]!.n) >= total + repeats.length;
  }, { timeoutMs: 90_000, message: 'the counters never consumed every message produced' });
  const perTenant = await query<{ tenant_id: string; n: number }>(svc.databaseUrl!, 'select tenant_id, sum(spam + phish + virus + clean)::int as n from counts group by tenant_id');
  t.equal(perTenant.reduce((a, x) => a + x.n, 0), total, 'the counts equal the number of distinct verdicts');
  t.equal(perTenant.length, tenants.length);
  t.ok(perTenant.every((r) => r.n === total / tenants.length), 'every tenant counted exactly its distinct verdicts');
  const keys = await query<{ n: number }>(svc.databaseUrl!, 'select count(*)::int as n from verdict_seen');
  t.equal(keys[0]!.n, total, 'one dedupe key per distinct verdict');
  const tickets = await query<{ tenant_id: string; n: number }>(svc.databaseUrl!, 'select tenant_id, count(*)::int as n from tickets group by tenant_id order by tenant_id');
  t.same(tickets.map((r) => r.tenant_id), [...spammy].sort(), 'the spamming tenants, and only they, have tickets');
  t.ok(tickets.every((r) => r.n === 1), 'no tenant has two tickets');
  const offsets = await query<{ n: string }>(svc.databaseUrl!, 'select sum(next_offset)::text as n from kafka_offsets');
  t.equal(Number(offsets[0]!.n), total + repeats.length, 'the stored offsets cover every message produced');
});

t.test('while PostgreSQL refuses connections the counter pauses and says so; afterwards it resumes where it was and loses nothing', async (t) => {
  const kafka = await kafkaTopics(cluster, 'kafka-outage');
  const svc = await prepareService({
    name: 'kafka-outage',
    arrangement: { engine: 'postgres', processes: 'one' },
    roleSets: [['counter']],
    env: kafka,
  });
  t.teardown(() => svc.stop());
  await svc.start();
  const dbName = new URL(svc.databaseUrl!).pathname.slice(1);
  const admin = testAdminUrl();
  const total = () => query<{ n: number }>(svc.databaseUrl!, 'select coalesce(sum(spam + phish + virus + clean), 0)::int as n from counts').then((r) => r[0]!.n);

  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, Array.from({ length: 200 }, (_, i) => message('steady', i, 'clean')));
  await waitUntil(async () => (await total()) === 200, { message: 'the first verdicts were not counted' });
  const readiness = async () => {
    const r = await fetch(`${svc.processUrls[0]}/readyz`);
    return { status: r.status, checks: ((await r.json()) as { checks: Record<string, string> }).checks };
  };
  const counterPaused = async () => {
    const m = /^abuse_desk_counter_paused (\d+)$/m.exec(await (await fetch(`${svc.processUrls[0]}/metrics`)).text());
    return m ? Number(m[1]) : null;
  };
  t.equal(await counterPaused(), 0, 'abuse_desk_counter_paused is 0 while the database answers');

  // The outage: no new connections, and the existing ones are cut.
  await query(admin, `alter database ${dbName} with allow_connections false`);
  await query(admin, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [dbName]);
  t.teardown(() => query(admin, `alter database ${dbName} with allow_connections true`).then(() => undefined));
  await produceWithKcat(cluster.brokers, kafka.KAFKA_VERDICT_TOPIC, Array.from({ length: 300 }, (_, i) => message('steady', 200 + i, 'clean')));
  // The database check of /readyz fails as soon as PostgreSQL does; the counter's own check only once a
  // batch could not be stored, so wait for that one.
  const outage = await waitUntil(async () => {
    const r = await readiness();
    return r.status === 503 && r.checks['kafka'] !== 'ok' ? r : null;
  }, { timeoutMs: 30_000, message: "/readyz never reported the counter's pause" });
  t.match(outage.checks['kafka'], /^counting paused, database failing: /, "the counter's own check says counting is paused");
  t.equal(await counterPaused(), 1, 'abuse_desk_counter_paused is 1 during the outage');
  t.equal(await total().catch(() => 'unreachable'), 'unreachable', 'the database is really refusing connections');

  await query(admin, `alter database ${dbName} with allow_connections true`);
  await waitUntil(async () => (await total().catch(() => 0)) === 500, { timeoutMs: 60_000, message: 'counting did not resume after the outage' });
  t.pass('every verdict produced during the outage was counted once it ended');
  await waitUntil(async () => (await counterPaused()) === 0, { message: 'abuse_desk_counter_paused did not go back to 0 after the outage' });
  const recovered = await waitUntil(async () => {
    const r = await readiness();
    return r.status === 200 ? r : null;
  }, { message: '/readyz did not report ready after the outage' });
  t.same(recovered.checks, { database: 'ok', kafka: 'ok' }, "the counter's check is ok again");
});
