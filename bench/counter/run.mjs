// bench/counter: the Kafka counter against the Kafka-protocol broker (kcat's mock cluster) and real
// PostgreSQL. Produces a realistic verdict stream while the real counter process (ROLES=counter) consumes
// it, and — in the same run, on the same data — a bare kafkajs consumer that only parses the messages.
// Prints sustained verdicts/s of both, the counter's peak RSS and trip latency (p50/p99).
//
// Two phases on one stream: (1) throughput — the producer runs as far ahead as the broker's retention
// allows (40,000 messages), so both consumers are saturated; (2) trip latency — a steady load of
// STEADY_RATE verdicts/s (below the counter's capacity, as in a healthy deployment) during which the
// spammers' crossing verdicts are produced; latency is from producing that verdict to seeing its ticket.
//
//   pnpm bench:counter            (MESSAGES=600000 TENANTS=1000 SPAMMERS=20 STEADY_RATE=20000 STEADY_SECONDS=15)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { connect, migrateToLatest, setDefaultPolicy, setOverride, upsertTenant } from '../../packages/db/dist/index.js';
import { startKafkaBroker } from '../../packages/testkit/dist/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const env = process.env;
const MESSAGES = Number(env.MESSAGES ?? 600_000);
const TENANTS = Number(env.TENANTS ?? 1000);
const SPAMMERS = Number(env.SPAMMERS ?? 20);
const STEADY_RATE = Number(env.STEADY_RATE ?? 20_000);
const STEADY_SECONDS = Number(env.STEADY_SECONDS ?? 15);
const MAX_LAG = 40_000; // the mock broker keeps only a few MB per partition: never run further ahead
const CHUNK = 5_000;
const TOPIC = 'outbound-verdicts';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

const broker = await startKafkaBroker();
const database = await createPostgresDatabase(testDatabaseUrl(env));
const handle = await connect({ databaseUrl: database.url });
await migrateToLatest(handle.db);
const now = new Date();
// Ordinary tenants send ~10 % spam and must not trip; the spammers trip on a known verdict.
await setDefaultPolicy(handle.db, { mode: 'enforce', windowSeconds: 600, minSpam: 1000, minSpamRatio: 0.5, critical: { windowSeconds: 300, minVirus: 1000, action: 'escalate' } }, 'bench', now);
const spammers = Array.from({ length: SPAMMERS }, (_, i) => `spammer-${i}`);
for (const id of spammers) {
  await upsertTenant(handle.db, id, { name: id }, now);
  await setOverride(handle.db, id, { policy: { minSpam: 100, minSpamRatio: 0.2 }, reason: 'bench' }, 'bench', now);
}
await handle.close();

const port = await freePort();
const counter = spawn(process.execPath, [path.join(ROOT, 'services/main/dist/main.js')], {
  env: { PATH: env.PATH ?? '', ROLES: 'counter', DATABASE_URL: database.url, KAFKA_BROKERS: broker.brokers, PORT: String(port), LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
let peakRss = 0;
const rssTimer = setInterval(() => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${counter.pid}/status`, 'utf8'));
    if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
  } catch {}
}, 200);

const kafka = new Kafka({ clientId: 'bench', brokers: broker.brokers.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();
// Make the topic exist before the consumers join.
await producer.send({ topic: TOPIC, messages: [{ key: 'warmup', value: '{"not":"a verdict"}' }] });

let bareCount = 0;
let bareFirst = 0;
let bareLast = 0;
const bare = kafka.consumer({ groupId: 'bench-bare', maxWaitTimeInMs: 250, maxBytesPerPartition: 2 * 1024 * 1024 });
await bare.connect();
await bare.subscribe({ topic: TOPIC, fromBeginning: true });
await bare.run({
  partitionsConsumedConcurrently: 4,
  eachBatch: async ({ batch }) => {
    for (const m of batch.messages) JSON.parse(m.value.toString());
    if (!bareFirst) bareFirst = performance.now();
    bareCount += batch.messages.length;
    bareLast = performance.now();
  },
});

const db = new pg.Pool({ connectionString: database.url, max: 2 });
const counted = async () => Number((await db.query('select coalesce(sum(next_offset), 0)::text as n from kafka_offsets')).rows[0].n);
const waitFor = async (cond, what, timeoutMs = 120_000) => {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
};
// Wait for the counter to be up and assigned.
await waitFor(async () => (await counted()) >= 1, 'the counter to count the warm-up message', 60_000);

let produced = 1;
const verdict = (tenantId, i, kind, minutesAgo) => ({
  key: tenantId,
  value: JSON.stringify({
    tenantId,
    messageId: `<${i}.${tenantId}@mail.bench.example>`,
    verdict: kind,
    occurredAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    sender: `user${i % 17}@${tenantId}.example`,
    recipients: 1 + (i % 5),
    score: kind === 'spam' ? 12.5 : 0.4,
    engine: 'rspamd',
  }),
});
const send = async (messages) => {
  await producer.send({ topic: TOPIC, messages, acks: 1 });
  produced += messages.length;
};

const started = performance.now();
// Spammers: 99 spam each early on; the 100th, produced later, is the one that trips.
await send(spammers.flatMap((t) => Array.from({ length: 99 }, (_, i) => verdict(t, i, 'spam', Math.random() * 5))));
const spamMark = produced;
let seq = 0;
const ordinary = (count) => {
  const msgs = [];
  for (let i = 0; i < count; i++) {
    seq += 1;
    const dup = seq % 50 === 0 && seq > 100; // 2 % repeats of earlier messages (producer retries)
    const n = dup ? seq - 97 : seq;
    const tenant = `tenant-${n % TENANTS}`;
    const r = (n * 2654435761) % 100;
    msgs.push(verdict(tenant, n, r < 9 ? 'spam' : r < 10 ? 'phish' : 'clean', (n % 300) / 60));
  }
  return msgs;
};
for (let c = 0; c < MESSAGES / CHUNK; c++) {
  while (produced - (await counted()) > MAX_LAG || produced - bareCount > MAX_LAG) await sleep(5);
  await send(ordinary(CHUNK));
}
const producedAll = performance.now();
await waitFor(async () => (await counted()) >= produced, 'the counter to catch up');
const counterDone = performance.now();
await waitFor(async () => bareCount >= produced, 'the bare consumer to catch up');
const throughputMessages = produced - 1;
const bareDone = bareLast;
await waitFor(async () => (await counted()) >= spamMark, 'the pre-spam to be counted');

// Phase 2: steady load with the crossing verdicts spread through it; a poller watches for the tickets.
const crossingAt = new Map();
const seenAt = new Map();
let polling = true;
const pollStart = performance.now();
const poller = (async () => {
  while (polling || seenAt.size < crossingAt.size) {
    const rows = (await db.query('select tenant_id from tickets where tenant_id = any($1)', [spammers])).rows;
    const t = performance.now();
    for (const r of rows) if (!seenAt.has(r.tenant_id)) seenAt.set(r.tenant_id, t);
    if (!polling && performance.now() - pollStart > (STEADY_SECONDS + 60) * 1000) break;
    await sleep(10);
  }
})();
const ticks = STEADY_SECONDS * 10;
const perTick = Math.round(STEADY_RATE / 10);
const steadyStart = performance.now();
for (let k = 0; k < ticks; k++) {
  await send(ordinary(perTick));
  const s = Math.floor((k * SPAMMERS) / ticks);
  if ((k * SPAMMERS) % ticks < SPAMMERS && s < spammers.length && !crossingAt.has(spammers[s])) {
    crossingAt.set(spammers[s], performance.now());
    await send([verdict(spammers[s], 99, 'spam', 0)]);
  }
  const next = steadyStart + (k + 1) * 100;
  if (next > performance.now()) await sleep(next - performance.now());
}
const steadyRate = (ticks * perTick) / ((performance.now() - steadyStart) / 1000);

// Trip latency: from producing the crossing verdict to seeing its ticket committed (polled every 10 ms).
polling = false;
await poller;
const trip = [...crossingAt].filter(([t]) => seenAt.has(t)).map(([t, at]) => seenAt.get(t) - at);
await waitFor(async () => (await counted()) >= produced, 'the counter to catch up');

const ticketsTotal = Number((await db.query('select count(*)::int as n from tickets')).rows[0].n);
const countedVerdicts = Number((await db.query('select coalesce(sum(spam+phish+virus+clean),0)::int as n from counts')).rows[0].n);
const counterRate = throughputMessages / ((counterDone - started) / 1000);
const bareRate = throughputMessages / ((bareDone - started) / 1000);

const cpu = os.cpus();
const lines = [
  `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}, PostgreSQL at ${new URL(testDatabaseUrl(env)).host}`,
  `stream: ${throughputMessages} messages (${TENANTS} tenants, ~10 % spam/phish, 2 % repeats, event times over 5 min) produced in ${((producedAll - started) / 1000).toFixed(1)} s, then ${STEADY_SECONDS} s at ${Math.round(steadyRate)} verdicts/s with ${SPAMMERS} spammers crossing their thresholds`,
  `counter: ${Math.round(counterRate)} verdicts/s sustained (${countedVerdicts} distinct counted, ${ticketsTotal} tickets)`,
  `bare kafkajs consumer (parse only): ${Math.round(bareRate)} messages/s  → counter/bare = ${(counterRate / bareRate).toFixed(2)}`,
  `counter peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB`,
  `trip latency at ${Math.round(steadyRate)} verdicts/s (produce → ticket committed), ${trip.length}/${crossingAt.size} trips: p50 ${pct(trip, 50).toFixed(0)} ms, p99 ${pct(trip, 99).toFixed(0)} ms, max ${Math.max(...trip).toFixed(0)} ms`,
];
console.log(lines.join('\n'));

clearInterval(rssTimer);
await bare.disconnect();
await producer.disconnect();
await db.end();
counter.kill('SIGTERM');
await new Promise((r) => counter.once('exit', r));
await broker.stop();
await database.drop();
