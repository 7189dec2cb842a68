// bench/lib.mjs: what every benchmark records besides its figures — the commit, the machine, the load —
// percentiles that count misses, and writing bench/results/<name>.json (then the README's tables through
// bench/report.mjs).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const RESULTS_DIR = path.join(ROOT, 'bench/results');

// The files a benchmark run itself writes: not counted when deciding whether the tree was dirty.
const OUTPUTS = ['bench/results/', 'README.md'];

/** The commit the figures belong to, and whether the tree differed from it (and where) when the run began. */
export function commitInfo() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const sha = git('rev-parse', 'HEAD').trim();
  const dirtyPaths = git('status', '--porcelain', '--untracked-files=no')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .filter((p) => !OUTPUTS.some((o) => p === o || p.startsWith(o)));
  return { sha, dirty: dirtyPaths.length > 0, dirtyPaths };
}

export function machineInfo(extra = {}) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    ...extra,
  };
}

/** 1-, 5- and 15-minute load averages, rounded to hundredths. */
export const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * Nearest-rank percentiles over `values` plus `missed` samples that were never seen within the wait
 * (counted as longer than any value). A percentile whose rank falls on a miss is null, and the p99 and
 * the max are null whenever there is any miss: they are "more than the wait", never absent.
 */
export function percentiles(values, missed = 0) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length + missed;
  const at = (p) => {
    if (n === 0) return null;
    const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
    return rank <= sorted.length ? sorted[rank - 1] : null;
  };
  return {
    seen: sorted.length,
    of: n,
    missed,
    p50: at(50),
    p99: missed > 0 ? null : at(99),
    max: missed > 0 || n === 0 ? null : sorted[sorted.length - 1],
  };
}

/**
 * Writes bench/results/<name>.json (through a .tmp file, so a broken run never leaves half a file) and
 * regenerates the README's tables from all results.
 */
export async function writeResults(name, result) {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`bench: wrote ${path.relative(ROOT, file)}`);
  const { updateReadme } = await import('./report.mjs');
  const changed = updateReadme();
  console.log(`bench: README benchmark tables ${changed ? 'regenerated' : 'already up to date'}`);
}

/** Reads a process's peak resident set size (VmHWM); throws if it cannot, so a run never reports 0 MB. */
export function peakRssBytes(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    throw new Error(`bench: could not read the peak RSS of process ${pid} (/proc/${pid}/status: ${err.message})`);
  }
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!m || Number(m[1]) === 0) throw new Error(`bench: /proc/${pid}/status has no VmHWM figure; cannot report the peak RSS`);
  return Number(m[1]) * 1024;
}

/** A loopback port nobody listens on right now. */
export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/**
 * Starts the real entry (`services/main/dist/main.js`) as a child process, its output in
 * test-artifacts/logs/<logName>.log. `alive()` throws once it has exited; `stop()` sends SIGTERM, then
 * SIGKILL after 15 s.
 */
export function startMain({ logName, baseUrl, env, nodeArgs = [] }) {
  const logDir = path.join(ROOT, 'test-artifacts', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${logName}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'services/main/dist/main.js')], { env, stdio: ['ignore', log, log] });
  closeSync(log); // the child holds its own copy
  const state = { child, baseUrl, logFile: path.relative(ROOT, logFile), exit: null };
  child.once('exit', (code, signal) => (state.exit = signal ?? `code ${code}`));
  state.alive = () => {
    if (state.exit !== null) throw new Error(`bench: the service exited during the run (${state.exit}); see ${state.logFile}`);
  };
  state.stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return state;
}

/** Polls /readyz of a service from startMain until it answers 200 (or it exits, or `timeoutMs` passes). */
export async function waitUntilReady(svc, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    svc.alive();
    const ok = await fetch(`${svc.baseUrl}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`bench: the service was not ready within ${timeoutMs / 1000} s; see ${svc.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A JSON client of the service's API with a bearer token: `(method, path, body?) → { status, body }`. */
export function apiClient(baseUrl, token) {
  return async (method, p, body) => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  };
}

// ---- CPU time from /proc ----------------------------------------------------------------------------------
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU seconds a process has used so far (0 once it is gone). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
  } catch {
    return 0;
  }
}

/** Every PostgreSQL process of the machine. */
export const postgresPids = () =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    })
    .map(Number);
