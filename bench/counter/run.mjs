// bench/counter: the Kafka counter against the Kafka-protocol broker (kcat's mock cluster) and real
// PostgreSQL. Produces a realistic verdict stream while the real counter process (ROLES=counter) consumes
// it, and — in the same run, on the same data — a bare kafkajs consumer that only parses the messages.
// Prints sustained verdicts/s of both, the counter's peak RSS and trip latency (p50/p99), writes them with
// the commit, machine and load to bench/results/counter.json and regenerates the README's table from it.
//
// Two phases on one stream: (1) throughput — the producer runs as far ahead as the broker's retention
// allows (40,000 messages), so both consumers are saturated; (2) trip latency — a steady load of
// STEADY_RATE verdicts/s (below the counter's capacity, as in a healthy deployment) during which the
// spammers' crossing verdicts are produced, one every STEADY_SECONDS / SPAMMERS; latency is from producing
// that verdict to seeing its ticket. SPAMMERS is 200 so that the p99 rests on 200 trips. A trip whose ticket
// is not seen within TRIP_WAIT_SECONDS is a miss: the figures say "n of m seen", and with any miss the p99
// and the max are "> TRIP_WAIT_SECONDS", never absent.
//
// The run fails (exit 1, with a message) when the counter dies, a wait times out or the peak RSS cannot be
// read; it then writes no results.
//
//   pnpm bench:counter   (MESSAGES=600000 TENANTS=1000 SPAMMERS=200 STEADY_RATE=20000 STEADY_SECONDS=15 TRIP_WAIT_SECONDS=30)
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { connect, migrateToLatest, setDefaultPolicy, setOverride, upsertTenant } from '../../packages/db/dist/index.js';
import { startKafkaBroker } from '../../packages/testkit/dist/index.js';
import { ROOT, commitInfo, loadAverage, machineInfo, peakRssBytes, percentiles, writeResults } from '../lib.mjs';

const env = process.env;
const MESSAGES = Number(env.MESSAGES ?? 600_000);
const TENANTS = Number(env.TENANTS ?? 1000);
const SPAMMERS = Number(env.SPAMMERS ?? 200);
const STEADY_RATE = Number(env.STEADY_RATE ?? 20_000);
const STEADY_SECONDS = Number(env.STEADY_SECONDS ?? 15);
const TRIP_WAIT_SECONDS = Number(env.TRIP_WAIT_SECONDS ?? 30);
const BROKERS = 3;
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

const commit = commitInfo();
const loadAtStart = loadAverage();
const date = new Date().toISOString();
// Everything started is stopped again in `finally`, also when the run fails.
const cleanup = [];
let counterExit = null;
let aborted = false; // set when the run fails, so the ticket poller stops
try {
  const broker = await startKafkaBroker(BROKERS);
  cleanup.unshift(() => broker.stop());
  const database = await createPostgresDatabase(testDatabaseUrl(env));
  cleanup.unshift(() => database.drop());
  const spammers = Array.from({ length: SPAMMERS }, (_, i) => `spammer-${i}`);
  const handle = await connect({ databaseUrl: database.url });
  try {
    await migrateToLatest(handle.db);
    const now = new Date();
    // Ordinary tenants send ~10 % spam and must not trip; the spammers trip on a known verdict.
    await setDefaultPolicy(handle.db, { mode: 'enforce', windowSeconds: 600, minSpam: 1000, minSpamRatio: 0.5, critical: { windowSeconds: 300, minVirus: 1000, action: 'escalate' } }, 'bench', now);
    for (const id of spammers) {
      await upsertTenant(handle.db, id, { name: id }, now);
      await setOverride(handle.db, id, { policy: { minSpam: 100, minSpamRatio: 0.2 }, reason: 'bench' }, 'bench', now);
    }
  } finally {
    await handle.close();
  }

  const port = await freePort();
  const counter = spawn(process.execPath, [path.join(ROOT, 'services/main/dist/main.js')], {
    env: { PATH: env.PATH ?? '', ROLES: 'counter', DATABASE_URL: database.url, KAFKA_BROKERS: broker.brokers, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  counter.once('exit', (code, signal) => (counterExit = signal ?? `code ${code}`));
  cleanup.unshift(() => new Promise((r) => (counter.exitCode !== null || counter.signalCode !== null ? r() : (counter.once('exit', r), counter.kill('SIGTERM')))));
  const counterAlive = () => {
    if (counterExit !== null) throw new Error(`bench: the counter process exited during the run (${counterExit})`);
  };

  const kafka = new Kafka({ clientId: 'bench', brokers: broker.brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  cleanup.unshift(() => producer.disconnect());
  // Make the topic exist before the consumers join.
  await producer.send({ topic: TOPIC, messages: [{ key: 'warmup', value: '{"not":"a verdict"}' }] });

  let bareCount = 0;
  let bareFirst = 0;
  let bareLast = 0;
  const bare = kafka.consumer({ groupId: 'bench-bare', maxWaitTimeInMs: 250, maxBytesPerPartition: 2 * 1024 * 1024 });
  await bare.connect();
  cleanup.unshift(() => bare.disconnect());
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
  cleanup.unshift(() => db.end());
  const postgresVersion = (await db.query('show server_version')).rows[0].server_version;
  const counted = async () => Number((await db.query('select coalesce(sum(next_offset), 0)::text as n from kafka_offsets')).rows[0].n);
  const waitFor = async (cond, what, timeoutMs = 120_000) => {
    const until = Date.now() + timeoutMs;
    while (!(await cond())) {
      counterAlive();
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
  const behind = async () => {
    while (produced - (await counted()) > MAX_LAG || produced - bareCount > MAX_LAG) {
      counterAlive();
      await sleep(5);
    }
  };
  const preSpam = spammers.flatMap((t) => Array.from({ length: 99 }, (_, i) => verdict(t, i, 'spam', Math.random() * 5)));
  for (let i = 0; i < preSpam.length; i += CHUNK) {
    await behind();
    await send(preSpam.slice(i, i + CHUNK));
  }
  const spamMark = produced;
  let seq = 0;
  const distinctOrdinary = new Set(); // to tell how many distinct verdicts the counter should have counted
  const ordinary = (count) => {
    const msgs = [];
    for (let i = 0; i < count; i++) {
      seq += 1;
      const dup = seq % 50 === 0 && seq > 100; // 2 % repeats of earlier messages (producer retries)
      const n = dup ? seq - 97 : seq;
      distinctOrdinary.add(n);
      const tenant = `tenant-${n % TENANTS}`;
      const r = (n * 2654435761) % 100;
      msgs.push(verdict(tenant, n, r < 9 ? 'spam' : r < 10 ? 'phish' : 'clean', (n % 300) / 60));
    }
    return msgs;
  };
  for (let c = 0; c < MESSAGES / CHUNK; c++) {
    await behind();
    await send(ordinary(CHUNK));
  }
  const producedAll = performance.now();
  await waitFor(async () => (await counted()) >= produced, 'the counter to catch up');
  const counterDone = performance.now();
  await waitFor(async () => bareCount >= produced, 'the bare consumer to catch up');
  const throughputMessages = produced - 1;
  const bareDone = bareLast;
  await waitFor(async () => (await counted()) >= spamMark, 'the pre-spam to be counted');

  // Phase 2: steady load in 100 ms ticks; spammer s's crossing verdict is due at (s + ½) × STEADY_SECONDS /
  // SPAMMERS into the phase, so the trips are spread evenly through it. A poller watches for the tickets until
  // each has been seen or waited for TRIP_WAIT_SECONDS.
  const crossingAt = new Map();
  const seenAt = new Map();
  let steadyDone = false;
  const poller = (async () => {
    for (;;) {
      const unseen = spammers.filter((t) => crossingAt.has(t) && !seenAt.has(t));
      if (aborted || (steadyDone && unseen.length === 0)) break;
      if (steadyDone && performance.now() > Math.max(...crossingAt.values()) + TRIP_WAIT_SECONDS * 1000) break;
      if (unseen.length) {
        const rows = (await db.query('select tenant_id from tickets where tenant_id = any($1)', [unseen])).rows;
        const t = performance.now();
        for (const r of rows) if (!seenAt.has(r.tenant_id)) seenAt.set(r.tenant_id, t);
      }
      await sleep(10);
    }
  })();
  poller.catch(() => {}); // awaited below; this only keeps a failure elsewhere from also reporting it unhandled
  const ticks = STEADY_SECONDS * 10;
  const perTick = Math.round(STEADY_RATE / 10);
  const crossingDue = spammers.map((_, s) => ((s + 0.5) * STEADY_SECONDS * 1000) / SPAMMERS);
  const steadyStart = performance.now();
  let nextSpammer = 0;
  try {
    for (let k = 0; k < ticks; k++) {
      counterAlive();
      await send(ordinary(perTick));
      while (nextSpammer < SPAMMERS && crossingDue[nextSpammer] < (k + 1) * 100) {
        const due = steadyStart + crossingDue[nextSpammer];
        if (due > performance.now()) await sleep(due - performance.now());
        const t = spammers[nextSpammer++];
        crossingAt.set(t, performance.now());
        await send([verdict(t, 99, 'spam', 0)]);
      }
      const next = steadyStart + (k + 1) * 100;
      if (next > performance.now()) await sleep(next - performance.now());
    }
  } finally {
    steadyDone = true;
  }
  const steadySeconds = (performance.now() - steadyStart) / 1000;
  const steadyRate = (ticks * perTick) / steadySeconds;

  // Trip latency: from producing the crossing verdict to seeing its ticket committed (polled every 10 ms);
  // a ticket not seen within TRIP_WAIT_SECONDS is a miss.
  await poller;
  counterAlive();
  const tripLatencies = [...crossingAt].filter(([t, at]) => seenAt.has(t) && seenAt.get(t) - at <= TRIP_WAIT_SECONDS * 1000).map(([t, at]) => seenAt.get(t) - at);
  const trip = percentiles(tripLatencies, SPAMMERS - tripLatencies.length);
  await waitFor(async () => (await counted()) >= produced, 'the counter to catch up');

  const ticketsTotal = Number((await db.query('select count(*)::int as n from tickets')).rows[0].n);
  const countedVerdicts = Number((await db.query('select coalesce(sum(spam+phish+virus+clean),0)::int as n from counts')).rows[0].n);
  // Every distinct verdict produced should be counted; fewer means messages were lost before the counter
  // read them (the mock broker drops what lies beyond its retention when a consumer falls too far behind).
  const distinctVerdicts = preSpam.length + distinctOrdinary.size + crossingAt.size;
  const counterRate = throughputMessages / ((counterDone - started) / 1000);
  const bareRate = throughputMessages / ((bareDone - started) / 1000);

  const peakRss = peakRssBytes(counter.pid);
  counterAlive();
  const loadAtEnd = loadAverage();
  const machine = machineInfo({ postgres: `PostgreSQL ${postgresVersion} at ${new URL(testDatabaseUrl(env)).host}`, kafka: `librdkafka mock cluster, ${BROKERS} brokers (${kcatVersion()})` });
  const ms = (x) => (x === null ? `> ${TRIP_WAIT_SECONDS * 1000}` : x.toFixed(0));
  console.log([
    `machine: ${machine.cpus} × ${machine.model}, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${machine.os}, node ${machine.node}, ${machine.postgres}`,
    `load average (1/5/15 min): ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
    `stream: ${throughputMessages} messages (${TENANTS} tenants, ~10 % spam/phish, 2 % repeats, event times over 5 min) produced in ${((producedAll - started) / 1000).toFixed(1)} s, then ${STEADY_SECONDS} s at ${Math.round(steadyRate)} verdicts/s with ${SPAMMERS} spammers crossing their thresholds`,
    `counter: ${Math.round(counterRate)} verdicts/s sustained (${countedVerdicts} of ${distinctVerdicts} distinct verdicts counted${countedVerdicts < distinctVerdicts ? `, ${distinctVerdicts - countedVerdicts} LOST` : ''}; ${ticketsTotal} tickets)`,
    `bare kafkajs consumer (parse only): ${Math.round(bareRate)} messages/s  → counter/bare = ${(counterRate / bareRate).toFixed(2)}`,
    `counter peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB`,
    `trip latency at ${Math.round(steadyRate)} verdicts/s (produce → ticket committed), ${trip.seen} of ${trip.of} trips seen within ${TRIP_WAIT_SECONDS} s${trip.missed ? ` (${trip.missed} MISSED)` : ''}: p50 ${ms(trip.p50)} ms, p99 ${ms(trip.p99)} ms, max ${ms(trip.max)} ms`,
  ].join('\n'));

  const round = (x, d = 0) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);
  await writeResults('counter', {
    benchmark: 'counter',
    date,
    commit,
    machine,
    load: { start: loadAtStart, end: loadAtEnd },
    parameters: { MESSAGES, TENANTS, SPAMMERS, STEADY_RATE, STEADY_SECONDS, TRIP_WAIT_SECONDS, MAX_LAG },
    figures: {
      throughput: {
        messages: throughputMessages,
        produceSeconds: round((producedAll - started) / 1000, 1),
        counterPerSecond: Math.round(counterRate),
        barePerSecond: Math.round(bareRate),
        ratio: round(counterRate / bareRate, 2),
        tickets: ticketsTotal,
      },
      verdicts: { distinctProduced: distinctVerdicts, counted: countedVerdicts, lost: Math.max(0, distinctVerdicts - countedVerdicts) },
      peakRssBytes: peakRss,
      steady: { seconds: round(steadySeconds, 1), verdictsPerSecond: Math.round(steadyRate) },
      tripLatencyMs: { seen: trip.seen, of: trip.of, missed: trip.missed, waitMs: TRIP_WAIT_SECONDS * 1000, p50: round(trip.p50), p99: round(trip.p99), max: round(trip.max) },
      tripLatenciesMs: [...tripLatencies].sort((a, b) => a - b).map((x) => round(x)),
    },
  });
} catch (err) {
  aborted = true;
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  for (const stop of cleanup) await stop().catch((err) => console.error(`bench: cleanup: ${err.message}`));
}

function kcatVersion() {
  const m = /Version (\S+).*librdkafka (\S+)/.exec(execFileSync('kcat', ['-V'], { encoding: 'utf8' }));
  return m ? `kcat ${m[1]}, librdkafka ${m[2]}` : 'kcat';
}
