// bench/embedded: the embedded default's footprint — what `npm start` costs an evaluator's machine. Starts the
// real entry (services/main/dist/main.js, all four roles, PGlite) on a fresh temporary DATA_DIR and polls
// /readyz until it answers 200 (time to ready, from spawning the process), reads its resident memory
// (/proc/<pid>/status: VmRSS, and VmHWM for the peak) at ready and IDLE_SECONDS later, stops it, and starts it
// again on the same directory (a restart). RUNS such pairs; the figures are medians. After the last restart
// the process stays up for `pnpm demo` (services/main/dist/demo.js: a tenant, a spam burst, a ticket walked
// to suspension), during which its RSS is sampled every 100 ms; the peak is the process's VmHWM at the end.
// For reference, the same process on PostgreSQL (TEST_DATABASE_URL, a fresh database) is started once.
// A phase breakdown (bench/embedded/phases.mjs, each in its own process) says where a start's time and
// memory go. Writes bench/results/embedded.json and regenerates the README's table from it.
//
// The run fails (exit 1, with a message, writing nothing) when the service dies, does not get ready within
// READY_TIMEOUT_SECONDS, the demo fails, or an RSS figure cannot be read.
//
//   pnpm bench:embedded   (RUNS=3 IDLE_SECONDS=5 READY_TIMEOUT_SECONDS=60; MAIN=… to measure another build)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { commitInfo, freePort, loadAverage, machineInfo, peakRssBytes, ROOT, writeResults } from '../lib.mjs';

const env = process.env;
const RUNS = Number(env.RUNS ?? 3);
const IDLE_SECONDS = Number(env.IDLE_SECONDS ?? 5);
const READY_TIMEOUT_SECONDS = Number(env.READY_TIMEOUT_SECONDS ?? 60);
const MAIN = path.resolve(env.MAIN ?? path.join(ROOT, 'services/main/dist/main.js'));
const DEMO = path.join(path.dirname(MAIN), 'demo.js');
const ADMIN_TOKEN = 'bench-embedded-admin-token';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 2 ** 20;
const mb = (bytes) => `${Math.round(bytes / MB)} MB`;
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`bench: /proc/${pid}/status has no VmRSS figure`);
  return Number(m[1]) * 1024;
}

/** Starts the entry and waits for /readyz; the service's output is kept for the error message. */
async function startService({ dataDir, databaseUrl }) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: env.PATH ?? '',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN,
      // What the README's demo starts the service with, so that `pnpm demo` runs through in seconds.
      RESOLUTION_TIMEOUT_SECONDS: '20',
      CALL_RING_SECONDS: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => (output = (output + chunk).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`));
  const service = {
    child,
    port,
    alive() {
      if (exited !== null) throw new Error(`bench: the service exited (${exited}); its last output:\n${output}`);
    },
    stop: () => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))),
  };
  const until = started + READY_TIMEOUT_SECONDS * 1000;
  for (;;) {
    service.alive();
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (performance.now() > until) {
      await service.stop();
      throw new Error(`bench: the service was not ready within ${READY_TIMEOUT_SECONDS} s; its last output:\n${output}`);
    }
    await sleep(20);
  }
  service.readyMs = performance.now() - started;
  return service;
}

/** One start: time to ready, RSS at ready and after IDLE_SECONDS, the peak so far. Leaves the service running. */
async function measureStart(options) {
  const service = await startService(options);
  const pid = service.child.pid;
  const atReady = rssBytes(pid);
  await sleep(IDLE_SECONDS * 1000);
  service.alive();
  return { service, figures: { readyMs: Math.round(service.readyMs), rssAtReadyBytes: atReady, idleRssBytes: rssBytes(pid), peakRssBytes: peakRssBytes(pid) } };
}

/** `pnpm demo` against a running service; RSS sampled every 100 ms while it runs. */
async function runDemo(service) {
  const pid = service.child.pid;
  let sampledMax = 0;
  const sampler = setInterval(() => {
    try {
      sampledMax = Math.max(sampledMax, rssBytes(pid));
    } catch {}
  }, 100);
  const started = performance.now();
  const demo = spawn(process.execPath, [DEMO], { env: { PATH: env.PATH ?? '', ADMIN_TOKEN, PUBLIC_BASE_URL: `http://127.0.0.1:${service.port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (c) => (output += c));
  demo.stderr.on('data', (c) => (output += c));
  const code = await new Promise((r) => demo.once('exit', (c, s) => r(s ?? c)));
  clearInterval(sampler);
  service.alive();
  if (code !== 0) throw new Error(`bench: pnpm demo failed (${code}):\n${output}`);
  return { seconds: Math.round((performance.now() - started) / 100) / 10, sampledMaxRssBytes: sampledMax, peakRssBytes: peakRssBytes(pid), idleRssAfterBytes: rssBytes(pid), output: output.trim().split('\n') };
}

/** The phase breakdown of one start, in its own process (bench/embedded/phases.mjs). */
function phases(mode, dataDir) {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'bench/embedded/phases.mjs'), mode, dataDir], { encoding: 'utf8', env: { PATH: env.PATH ?? '' } });
  return JSON.parse(out);
}

const commit = commitInfo();
const loadAtStart = loadAverage();
const date = new Date().toISOString();
const cleanup = [];
try {
  const runs = [];
  let demo;
  for (let i = 0; i < RUNS; i++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'abuse-desk-embedded-'));
    cleanup.unshift(async () => rmSync(dataDir, { recursive: true, force: true }));
    const first = await measureStart({ dataDir });
    await first.service.stop();
    const again = await measureStart({ dataDir });
    if (i === RUNS - 1) demo = await runDemo(again.service);
    await again.service.stop();
    runs.push({ first: first.figures, restart: again.figures });
    console.log(`run ${i + 1}/${RUNS}: first start ready in ${sec(first.figures.readyMs)}, idle ${mb(first.figures.idleRssBytes)} (peak ${mb(first.figures.peakRssBytes)}); restart ready in ${sec(again.figures.readyMs)}, idle ${mb(again.figures.idleRssBytes)} (peak ${mb(again.figures.peakRssBytes)})`);
  }
  console.log(`pnpm demo (${demo.seconds} s, on the last restart): peak RSS ${mb(demo.peakRssBytes)} (sampled max ${mb(demo.sampledMaxRssBytes)}), ${mb(demo.idleRssAfterBytes)} after`);

  // Where the time and memory of a start go, each phase in a fresh process.
  const phaseDir = mkdtempSync(path.join(os.tmpdir(), 'abuse-desk-phases-'));
  cleanup.unshift(async () => rmSync(phaseDir, { recursive: true, force: true }));
  const breakdown = { first: phases('open', path.join(phaseDir, 'a')), restart: phases('open', path.join(phaseDir, 'a')), initdb: phases('initdb', path.join(phaseDir, 'b')) };
  for (const [name, steps] of Object.entries(breakdown)) {
    console.log(`phases, ${name}: ${steps.map((s) => `${s.phase} ${s.ms} ms → ${mb(s.rssBytes)}`).join('; ')}`);
  }

  // The same process on PostgreSQL, for reference.
  let postgres = null;
  let postgresServer = `PostgreSQL at ${new URL(testDatabaseUrl(env)).host} not reachable: no reference figures`;
  try {
    const database = await createPostgresDatabase(testDatabaseUrl(env));
    cleanup.unshift(() => database.drop());
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const version = (await client.query('show server_version')).rows[0].server_version;
    await client.end();
    postgresServer = `PostgreSQL ${version} at ${new URL(testDatabaseUrl(env)).host}`;
    const { service, figures } = await measureStart({ databaseUrl: database.url });
    await service.stop();
    postgres = figures;
    console.log(`on ${postgresServer}: ready in ${sec(figures.readyMs)}, idle ${mb(figures.idleRssBytes)}`);
  } catch (err) {
    if (!/ECONNREFUSED|ENOTFOUND|password|does not exist/.test(String(err?.message))) throw err;
    console.log(postgresServer);
  }

  const loadAtEnd = loadAverage();
  const pick = (which, key) => median(runs.map((r) => r[which][key]));
  const spread = (which, key) => ({ median: pick(which, key), min: Math.min(...runs.map((r) => r[which][key])), max: Math.max(...runs.map((r) => r[which][key])) });
  const figures = {
    first: { readyMs: spread('first', 'readyMs'), idleRssBytes: spread('first', 'idleRssBytes'), peakRssBytes: spread('first', 'peakRssBytes') },
    restart: { readyMs: spread('restart', 'readyMs'), idleRssBytes: spread('restart', 'idleRssBytes'), peakRssBytes: spread('restart', 'peakRssBytes') },
    demo,
    postgres,
    phases: breakdown,
    runs,
  };
  console.log(
    [
      `load average (1/5/15 min): ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
      `first start: ready in ${sec(figures.first.readyMs.median)} (median of ${RUNS}), idle ${mb(figures.first.idleRssBytes.median)}`,
      `restart: ready in ${sec(figures.restart.readyMs.median)}, idle ${mb(figures.restart.idleRssBytes.median)}`,
      `through pnpm demo: peak ${mb(demo.peakRssBytes)}`,
    ].join('\n'),
  );
  await writeResults('embedded', {
    benchmark: 'embedded',
    date,
    commit,
    machine: machineInfo({ postgres: postgresServer, pglite: pgliteVersion() }),
    load: { start: loadAtStart, end: loadAtEnd },
    parameters: { RUNS, IDLE_SECONDS, READY_TIMEOUT_SECONDS },
    figures,
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  for (const stop of cleanup) await stop().catch((err) => console.error(`bench: cleanup: ${err.message}`));
}

function pgliteVersion() {
  const pkg = path.join(ROOT, 'packages/db/node_modules/@electric-sql/pglite/package.json');
  return `PGlite ${JSON.parse(readFileSync(pkg, 'utf8')).version}`;
}
