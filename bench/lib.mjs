// bench/lib.mjs: what every benchmark records besides its figures — the commit, the machine, the load —
// percentiles that count misses, and writing bench/results/<name>.json (then the README's tables through
// bench/report.mjs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
