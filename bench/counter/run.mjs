// bench/counter: the Kafka counter on a real Apache Kafka cluster (three KRaft nodes, as the tests start it)
// and real PostgreSQL. Pre-produces a backlog of verdicts into a partitioned topic, then measures on that
// same backlog, each from offset 0: a bare kafkajs consumer that only parses each message, and the real
// counter process (ROLES=counter) writing to PostgreSQL. Then trip latency under a steady load, and a CPU
// profile of a second counter process over the same backlog (node --cpu-prof), summarised by function and
// by module. Writes the figures with the commit, machine, versions and load to bench/results/counter.json
// and regenerates the README's table from it.
//
// Phases:
//   1. backlog — MESSAGES verdicts from TENANTS tenants (about 9 % spam and 1 % phish, spread over every
//      tenant by a hash of the message; 2 % producer repeats; event times spread over EVENT_MINUTES), produced
//      by kcat (librdkafka, idempotent, acks=all) into a topic of PARTITIONS partitions (replication factor
//      3, min.insync.replicas=2).
//   2. bare — a kafkajs consumer with the counter's fetch settings parses every message; rate = backlog /
//      time from its first batch to its last.
//   3. counter — the real counter process from offset 0; rate = backlog / time from the first offset it
//      stored in PostgreSQL to the last.
//   4. steady — the same counter, caught up: SPAMMERS tenants get 99 spam verdicts each, then STEADY_RATE
//      verdicts/s for STEADY_SECONDS during which each spammer's 100th spam verdict (the one that trips) is
//      produced, evenly spread; latency is from producing it to seeing its ticket in PostgreSQL. A ticket not
//      seen within TRIP_WAIT_SECONDS is a miss (the p99 and max become "> wait").
//   5. profile — a second counter process (fresh database, its own group) with --cpu-prof reads the backlog
//      from offset 0 for PROFILE_SECONDS and is stopped; its profile is summarised.
// CPU time of the counter, PostgreSQL (every `postgres` process) and the Kafka JVMs is read from /proc for
// phases 2 and 3, to show where the two cores went.
//
// The run fails (exit 1, with a message) when a process under test dies, a wait times out or a figure
// cannot be read; it then writes no results.
//
//   pnpm bench:counter   (MESSAGES=2000000 TENANTS=10000 PARTITIONS=12 EVENT_MINUTES=10 SPAMMERS=200
//                         STEADY_RATE=20000 STEADY_SECONDS=15 TRIP_WAIT_SECONDS=30 PROFILE_SECONDS=30)
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { connect, migrateToLatest, setDefaultPolicy, setOverride, upsertTenant } from '../../packages/db/dist/index.js';
import { produceLinesWithKcat, startKafkaCluster } from '../../packages/testkit/dist/index.js';
import { commitInfo, cpuSeconds, freePort, loadAverage, machineInfo, peakRssBytes, percentiles, postgresPids, ROOT, writeResults } from '../lib.mjs';

const env = process.env;
const MESSAGES = Number(env.MESSAGES ?? 2_000_000);
const TENANTS = Number(env.TENANTS ?? 10_000);
const PARTITIONS = Number(env.PARTITIONS ?? 12);
const EVENT_MINUTES = Number(env.EVENT_MINUTES ?? 10);
const SPAMMERS = Number(env.SPAMMERS ?? 200);
const STEADY_RATE = Number(env.STEADY_RATE ?? 20_000);
const STEADY_SECONDS = Number(env.STEADY_SECONDS ?? 15);
const TRIP_WAIT_SECONDS = Number(env.TRIP_WAIT_SECONDS ?? 30);
const PROFILE_SECONDS = Number(env.PROFILE_SECONDS ?? 30);
const TOPIC = 'bench-verdicts';
// The counter's own fetch settings (services/counter/src/consumer.ts), so the bare consumer reads alike.
const FETCH = { maxWaitTimeInMs: 250, maxBytesPerPartition: 1024 * 1024, maxBytes: 4 * 1024 * 1024 };
const CONCURRENCY = 4;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 0) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

/** CPU seconds per group of processes, to subtract two snapshots (processes gone in between are missed). */
function cpuSnapshot(groups) {
  const out = {};
  for (const [name, pids] of Object.entries(groups)) out[name] = new Map((typeof pids === 'function' ? pids() : pids).map((p) => [p, cpuSeconds(p)]));
  return out;
}
function cpuBetween(a, b) {
  const out = {};
  for (const name of Object.keys(b)) {
    let s = 0;
    for (const [pid, v] of b[name]) s += v - (a[name]?.get(pid) ?? 0);
    out[name] = round(s, 1);
  }
  return out;
}

// ---- the CPU profile, summarised ----------------------------------------------------------------------
/** Where a profiled function lives: a package from node_modules, one of ours, Node itself, or V8's own. */
function moduleOf(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node (built-in modules)';
  const m = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (m) return m[1];
  const ours = /\/(packages|services)\/([^/]+)\/dist\//.exec(url);
  if (ours) return ours[1] === 'packages' ? `@abuse-desk/${ours[2]}` : `services/${ours[2]}`;
  return url.replace(/^file:\/\//, '').replace(ROOT, '');
}
function summariseProfile(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fns = new Map();
  const mods = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const mod = moduleOf(url, functionName);
    mods.set(mod, (mods.get(mod) ?? 0) + us);
    const file = url ? url.replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^file:\/\//, '').replace(ROOT, '') : '';
    const key = `${functionName || '(anonymous)'}\t${file ? `${file}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, seconds: round(us / 1e6, 2), percent: round((100 * us) / busy, 1) }));
  const functions = top(fns, 15).map(({ name, ...rest }) => ({ name: name.split('\t')[0], where: name.split('\t')[1] || null, ...rest }));
  return { wallSeconds: round((p.endTime - p.startTime) / 1e6, 1), busySeconds: round(busy / 1e6, 1), idleSeconds: round(idle / 1e6, 1), modules: top(mods, 12), functions };
}

// ---- setup ----------------------------------------------------------------------------------------------
const spammers = Array.from({ length: SPAMMERS }, (_, i) => `spammer-${i}`);
/** A fresh database with the migrations, a default policy ordinary tenants never trip, and the spammers' overrides. */
async function prepareDatabase() {
  const database = await createPostgresDatabase(testDatabaseUrl(env));
  const handle = await connect({ databaseUrl: database.url });
  try {
    await migrateToLatest(handle.db);
    const now = new Date();
    await setDefaultPolicy(handle.db, { mode: 'enforce', windowSeconds: 600, minSpam: 1000, minSpamRatio: 0.5, critical: { windowSeconds: 300, minVirus: 1000, action: 'escalate' } }, 'bench', now);
    for (const id of spammers) {
      await upsertTenant(handle.db, id, { name: id }, now);
      await setOverride(handle.db, id, { policy: { minSpam: 100, minSpamRatio: 0.2 }, reason: 'bench' }, 'bench', now);
    }
  } finally {
    await handle.close();
  }
  return database;
}

const verdictJson = (tenantId, n, kind, occurredAt) =>
  JSON.stringify({
    tenantId,
    messageId: `<${n}.${tenantId}@mail.bench.example>`,
    verdict: kind,
    occurredAt,
    sender: `user${n % 17}@${tenantId}.example`,
    recipients: 1 + (n % 5),
    score: kind === 'clean' ? 0.4 : 12.5,
    engine: 'rspamd',
  });
/** Ordinary traffic: message n belongs to tenant n mod TENANTS; its kind comes from a hash of n (~9 % spam, ~1 % phish). */
const kindOf = (n) => {
  const r = Number((BigInt(n) * 2654435761n) % 100n);
  return r < 9 ? 'spam' : r < 10 ? 'phish' : 'clean';
};

function startCounter({ databaseUrl, brokers, groupId, port, nodeArgs = [] }) {
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'services/main/dist/main.js')], {
    env: { PATH: env.PATH ?? '', ROLES: 'counter', DATABASE_URL: databaseUrl, KAFKA_BROKERS: brokers, KAFKA_VERDICT_TOPIC: TOPIC, KAFKA_GROUP_ID: groupId, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const state = { child, exit: null };
  child.once('exit', (code, signal) => (state.exit = signal ?? `code ${code}`));
  state.alive = () => {
    if (state.exit !== null) throw new Error(`bench: a counter process exited during the run (${state.exit})`);
  };
  state.stop = () => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  return state;
}

const commit = commitInfo();
const loadAtStart = loadAverage();
const date = new Date().toISOString();
// Everything started is stopped again in `finally`, also when the run fails.
const cleanup = [];
let aborted = false; // set when the run fails, so the ticket poller stops
try {
  const cluster = await startKafkaCluster({ nodes: 3, heapMb: 512 });
  cleanup.unshift(() => cluster.stop());
  const jvms = [0, 1, 2].map((i) => cluster.pid(i));
  await cluster.createTopic(TOPIC, PARTITIONS, { replicationFactor: 3, minInsyncReplicas: 2 });
  const database = await prepareDatabase();
  cleanup.unshift(() => database.drop());

  // ---- 1. the backlog ----
  const base = Date.now();
  let repeats = 0;
  const distinct = new Set();
  const backlogLine = (i) => {
    const dup = i % 50 === 49; // 2 % repeats of an earlier message (a producer resending)
    const n = dup ? i - 37 : i;
    if (dup) repeats += 1;
    else distinct.add(n);
    const tenant = `tenant-${n % TENANTS}`;
    const at = new Date(base - ((n * 7919) % (EVENT_MINUTES * 60_000))).toISOString();
    return `${tenant}\t${verdictJson(tenant, n, kindOf(n), at)}`;
  };
  const produceStart = performance.now();
  // idempotent, acks=all
  await produceLinesWithKcat(cluster.brokers, TOPIC, MESSAGES, backlogLine, { 'enable.idempotence': 'true', 'linger.ms': '20', 'batch.num.messages': '10000', 'queue.buffering.max.messages': '500000' });
  const produceSeconds = (performance.now() - produceStart) / 1000;
  const ends = await cluster.admin().fetchTopicOffsets(TOPIC);
  const backlog = ends.reduce((a, p) => a + Number(p.high), 0);
  if (backlog !== MESSAGES) throw new Error(`bench: the topic holds ${backlog} messages, not the ${MESSAGES} produced`);
  const perPartition = ends.map((p) => Number(p.high));
  console.log(`backlog: ${backlog} messages in ${PARTITIONS} partitions (${Math.min(...perPartition)}–${Math.max(...perPartition)} each), produced by kcat in ${produceSeconds.toFixed(1)} s`);
  const kafka = new Kafka({ clientId: 'bench', brokers: cluster.brokers.split(','), logLevel: logLevel.NOTHING });

  // ---- 2. the bare kafkajs consumer ----
  const groups = (counterPid) => ({ counter: counterPid ? [counterPid] : [process.pid], postgres: postgresPids, kafka: jvms });
  let bareCount = 0;
  let bareFirst = 0;
  let bareLast = 0;
  const bare = kafka.consumer({ groupId: 'bench-bare', ...FETCH });
  cleanup.unshift(() => bare.disconnect());
  await bare.connect();
  await bare.subscribe({ topic: TOPIC, fromBeginning: true });
  let cpuA;
  await bare.run({
    partitionsConsumedConcurrently: CONCURRENCY,
    eachBatch: async ({ batch }) => {
      if (!bareFirst) {
        bareFirst = performance.now();
        cpuA = cpuSnapshot(groups());
      }
      for (const m of batch.messages) JSON.parse(m.value.toString());
      bareCount += batch.messages.length;
      bareLast = performance.now();
    },
  });
  const bareDeadline = Date.now() + 600_000;
  while (bareCount < backlog) {
    if (Date.now() > bareDeadline) throw new Error('bench: the bare consumer did not read the backlog within 10 min');
    await sleep(20);
  }
  const bareCpu = cpuBetween(cpuA, cpuSnapshot(groups()));
  await bare.disconnect();
  const bareSeconds = (bareLast - bareFirst) / 1000;
  const bareRate = backlog / bareSeconds;
  console.log(`bare kafkajs consumer (parse only): ${Math.round(bareRate)} messages/s (${bareSeconds.toFixed(1)} s; CPU s: ${JSON.stringify({ consumer: bareCpu.counter, postgres: bareCpu.postgres, kafka: bareCpu.kafka })})`);

  // ---- 3. the counter on the same backlog ----
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  cleanup.unshift(() => db.end());
  const postgresVersion = (await db.query('show server_version')).rows[0].server_version;
  const counter = startCounter({ databaseUrl: database.url, brokers: cluster.brokers, groupId: 'abuse-desk-counter', port: await freePort() });
  cleanup.unshift(() => counter.stop());
  const stored = async (pool = db) => Number((await pool.query('select coalesce(sum(next_offset), 0)::text as n from kafka_offsets')).rows[0].n);
  const waitFor = async (cond, what, timeoutMs = 600_000, alive = counter.alive) => {
    const until = Date.now() + timeoutMs;
    while (!(await cond())) {
      alive();
      if (Date.now() > until) throw new Error(`bench: timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  await waitFor(async () => (await stored()) > 0, 'the counter to store its first offsets', 120_000);
  const counterFirst = performance.now();
  const cpuB = cpuSnapshot(groups(counter.child.pid));
  await waitFor(async () => (await stored()) >= backlog, 'the counter to count the backlog');
  const counterSeconds = (performance.now() - counterFirst) / 1000;
  const counterCpu = cpuBetween(cpuB, cpuSnapshot(groups(counter.child.pid)));
  const counterRate = backlog / counterSeconds;
  const countedBacklog = Number((await db.query('select coalesce(sum(spam+phish+virus+clean),0)::int as n from counts')).rows[0].n);
  console.log(`counter: ${Math.round(counterRate)} verdicts/s (${counterSeconds.toFixed(1)} s; ${countedBacklog} of ${distinct.size} distinct verdicts counted; CPU s: ${JSON.stringify(counterCpu)})  → counter/bare = ${(counterRate / bareRate).toFixed(2)}`);

  // ---- 4. steady load and trip latency ----
  const producer = kafka.producer();
  await producer.connect();
  cleanup.unshift(() => producer.disconnect());
  let produced = backlog;
  // acks=1 and up to 8 sends in flight, so the bench's own producer keeps STEADY_RATE on the shared cores.
  const inFlight = new Set();
  const send = async (messages, { wait = true } = {}) => {
    while (inFlight.size >= 8) await Promise.race(inFlight);
    const p = producer.send({ topic: TOPIC, messages, acks: 1 }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    produced += messages.length;
    if (wait) await p;
  };
  const msg = (tenant, n, kind) => ({ key: tenant, value: verdictJson(tenant, n, kind, new Date().toISOString()) });
  const preSpam = spammers.flatMap((t) => Array.from({ length: 99 }, (_, i) => ({ key: t, value: verdictJson(t, i, 'spam', new Date(Date.now() - Math.random() * 5 * 60_000).toISOString()) })));
  for (let i = 0; i < preSpam.length; i += 5000) await send(preSpam.slice(i, i + 5000));
  await waitFor(async () => (await stored()) >= produced, 'the pre-spam to be counted');

  let seq = MESSAGES;
  const ordinary = (count) => Array.from({ length: count }, () => {
    seq += 1;
    const tenant = `tenant-${seq % TENANTS}`;
    return msg(tenant, seq, kindOf(seq));
  });
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
  const crossings = [];
  try {
    for (let k = 0; k < ticks; k++) {
      counter.alive();
      await send(ordinary(perTick), { wait: false });
      while (nextSpammer < SPAMMERS && crossingDue[nextSpammer] < (k + 1) * 100) {
        const due = steadyStart + crossingDue[nextSpammer];
        if (due > performance.now()) await sleep(due - performance.now());
        const t = spammers[nextSpammer++];
        crossingAt.set(t, performance.now());
        // Not awaited: waiting for each crossing verdict's ack held the loop up, and the load fell short of the rate.
        crossings.push(send([msg(t, 99, 'spam')], { wait: false }));
      }
      const next = steadyStart + (k + 1) * 100;
      if (next > performance.now()) await sleep(next - performance.now());
    }
    await Promise.all(crossings);
    await Promise.all(inFlight);
  } finally {
    steadyDone = true;
  }
  const steadySeconds = (performance.now() - steadyStart) / 1000;
  const steadyRate = (ticks * perTick) / steadySeconds;
  await poller;
  counter.alive();
  const tripLatencies = [...crossingAt].filter(([t, at]) => seenAt.has(t) && seenAt.get(t) - at <= TRIP_WAIT_SECONDS * 1000).map(([t, at]) => seenAt.get(t) - at);
  const trip = percentiles(tripLatencies, SPAMMERS - tripLatencies.length);
  await waitFor(async () => (await stored()) >= produced, 'the counter to catch up after the steady load');
  const ticketsTotal = Number((await db.query('select count(*)::int as n from tickets')).rows[0].n);
  const countedVerdicts = Number((await db.query('select coalesce(sum(spam+phish+virus+clean),0)::int as n from counts')).rows[0].n);
  const distinctVerdicts = distinct.size + preSpam.length + (seq - MESSAGES) + crossingAt.size;
  const peakRss = peakRssBytes(counter.child.pid);
  counter.alive();
  await counter.stop();
  const ms = (x) => (x === null ? `> ${TRIP_WAIT_SECONDS * 1000}` : x.toFixed(0));
  console.log(`trip latency at ${Math.round(steadyRate)} verdicts/s, ${trip.seen} of ${trip.of} trips seen within ${TRIP_WAIT_SECONDS} s${trip.missed ? ` (${trip.missed} MISSED)` : ''}: p50 ${ms(trip.p50)} ms, p99 ${ms(trip.p99)} ms, max ${ms(trip.max)} ms; counter peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB; ${countedVerdicts} of ${distinctVerdicts} distinct verdicts counted, ${ticketsTotal} tickets`);

  // ---- 5. a CPU profile of a counter over the same backlog ----
  let profile = null;
  if (PROFILE_SECONDS > 0) {
    const profDb = await prepareDatabase();
    cleanup.unshift(() => profDb.drop());
    const profDir = mkdtempSync(path.join(os.tmpdir(), 'abuse-desk-cpuprof-'));
    cleanup.unshift(async () => rmSync(profDir, { recursive: true, force: true }));
    const profPool = new pg.Pool({ connectionString: profDb.url, max: 1 });
    cleanup.unshift(() => profPool.end());
    const profiled = startCounter({ databaseUrl: profDb.url, brokers: cluster.brokers, groupId: 'bench-profile', port: await freePort(), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    cleanup.unshift(() => profiled.stop());
    await waitFor(async () => (await stored(profPool)) > 0, 'the profiled counter to store its first offsets', 120_000, profiled.alive);
    const from = await stored(profPool);
    const t0 = performance.now();
    const until = Date.now() + PROFILE_SECONDS * 1000;
    while (Date.now() < until && (await stored(profPool)) < backlog) {
      profiled.alive();
      await sleep(200);
    }
    const rate = ((await stored(profPool)) - from) / ((performance.now() - t0) / 1000);
    await profiled.stop();
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('bench: the profiled counter wrote no .cpuprofile');
    profile = { ...summariseProfile(path.join(profDir, file)), verdictsPerSecond: Math.round(rate) };
    console.log(`profile (${profile.wallSeconds} s, ${profile.busySeconds} s on CPU, ${profile.verdictsPerSecond} verdicts/s while profiled):`);
    for (const m of profile.modules) console.log(`  ${String(m.percent).padStart(5)} %  ${m.name}`);
    for (const f of profile.functions) console.log(`  ${String(f.percent).padStart(5)} %  ${f.name}${f.where ? ` (${f.where})` : ''}`);
  }

  const loadAtEnd = loadAverage();
  const machine = machineInfo({
    postgres: `PostgreSQL ${postgresVersion} at ${new URL(testDatabaseUrl(env)).host}`,
    kafka: `Apache Kafka ${cluster.version} (3 KRaft nodes, ${PARTITIONS} partitions, replication factor 3, min.insync.replicas=2), kafkajs ${kafkajsVersion()}, ${kcatVersion()}`,
  });
  await writeResults('counter', {
    benchmark: 'counter',
    date,
    commit,
    machine,
    load: { start: loadAtStart, end: loadAtEnd },
    parameters: { MESSAGES, TENANTS, PARTITIONS, EVENT_MINUTES, SPAMMERS, STEADY_RATE, STEADY_SECONDS, TRIP_WAIT_SECONDS, PROFILE_SECONDS },
    versions: { kafka: cluster.version, kafkajs: kafkajsVersion(), kcat: kcatVersion() },
    figures: {
      backlog: { messages: backlog, distinct: distinct.size, repeats, partitions: PARTITIONS, perPartition: { min: Math.min(...perPartition), max: Math.max(...perPartition) }, produceSeconds: round(produceSeconds, 1) },
      throughput: {
        messages: backlog,
        counterPerSecond: Math.round(counterRate),
        counterSeconds: round(counterSeconds, 1),
        barePerSecond: Math.round(bareRate),
        bareSeconds: round(bareSeconds, 1),
        ratio: round(counterRate / bareRate, 2),
        countedOfBacklog: countedBacklog,
      },
      cpuSeconds: { bare: bareCpu, counter: counterCpu },
      verdicts: { distinctProduced: distinctVerdicts, counted: countedVerdicts, lost: Math.max(0, distinctVerdicts - countedVerdicts), tickets: ticketsTotal },
      peakRssBytes: peakRss,
      steady: { seconds: round(steadySeconds, 1), verdictsPerSecond: Math.round(steadyRate) },
      tripLatencyMs: { seen: trip.seen, of: trip.of, missed: trip.missed, waitMs: TRIP_WAIT_SECONDS * 1000, p50: round(trip.p50), p99: round(trip.p99), max: round(trip.max) },
      tripLatenciesMs: [...tripLatencies].sort((a, b) => a - b).map((x) => round(x)),
      profile,
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
  return m ? `kcat ${m[1]} (librdkafka ${m[2]})` : 'kcat';
}

function kafkajsVersion() {
  return createRequire(import.meta.url)('kafkajs/package.json').version;
}
