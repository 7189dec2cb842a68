// bench/intake: complaint reports over SMTP (issue 17) — how many reports a second the intake takes (each
// stored in complaint_reports before its 250) and how many it works to their outcome, on a fresh PostgreSQL
// database. The real service runs as one process with ROLES=api,intake; the bench is the mailbox providers'
// feedback loops: CONNECTIONS SMTP sessions at once (a small client over node:net, below), each sending
// report after report in one session — RSET, MAIL FROM, RCPT TO, DATA, the report — and checking that every
// reply is the one SMTP prescribes and that the report is answered 250.
//
// The reports are the fixture services/intake/fixtures/arf-stamped.eml made current (arrival now, a Message-ID
// of their own, as test/src/intake.test.ts does), in this mix, shuffled:
//   - 70 % stamped: a valid X-Abuse-Desk-Tenant stamp (makeStamp, TENANT_STAMP_SECRET) for one of TENANTS
//     tenants, bound to a Message-ID no other report has                          → counted (by stamp)
//   - 20 % by IP: no stamp, the Source-IP inside one of the tenants' ranges (PUT /v1/tenants/{id}/ips: an
//     IPv4 /24 each, an IPv6 /48 for every fifth tenant; a quarter of these reports name an IPv6 address)
//                                                                                  → counted (by IP)
//   - 5 % duplicates: a stamped report sent again (its resend by the provider)   → duplicate
//   - 5 % unattributed: no stamp, a Source-IP no tenant holds (198.18.0.0/15)    → unattributed
// Nothing in the mix is broken, so no report should end as a dead letter. The tenants have no verdicts and
// the product's default policy, so the complaint rule (20 reports, 0.3 % of the tenant's verdicts, within a
// day) trips each tenant at its 20th counted report and every later report adds its evidence to the ticket:
// the flood a feedback loop sends about a spamming tenant, not a trickle.
//
// Figures (printed, and written with the commit, machine and load to bench/results/intake.json, from which
// bench/report.mjs renders the README's table):
//   1. acceptance — reports answered 250 per second, from the first command sent to the last 250; the SMTP
//      transaction's latency (RSET sent → the 250 after the data) p50/p99/max, and the store's (end of the
//      data → 250: the INSERT and its commit) alike; replies other than the expected ones, by command and code;
//   2. processing — reports per second worked to their outcome, from the first command sent to the last
//      report done (`processed_at`), and its rate while the reports came in and after; the backlog (stored,
//      not done) when the last 250 came; each report's wait from stored to done (`received_at` →
//      `processed_at`), p50/p99/max. Progress is polled every second with the count of reports not done
//      (`status in ('pending','dispatching')`, the partial index the intake claims from — a count of
//      `status = 'done'` would read the whole table, raw reports included, every second);
//   3. outcomes — counted / duplicate / unattributed / dead_letter (and by stamp / IP) against the mix sent;
//      the complaint tickets opened;
//   4. the service's peak RSS (VmHWM, and VmRSS every second), complaint_reports on disk
//      (`pg_total_relation_size`: heap, TOAST, indexes) and per report; CPU seconds of the service, of all
//      PostgreSQL processes and of the bench itself (from /proc) between the first send and the last report done.
// A wrong reply or a wrong outcome count is recorded (`targets`), not an error: the run fails (exit 1, with a
// message, no results written) only when the bench itself breaks — the service dies, setup is refused.
//
//   pnpm bench:intake    (flags: --reports 20000 --connections 8 --tenants 50 --wait 600 --log-level warn;
//                         or BENCH_REPORTS, BENCH_CONNECTIONS, BENCH_TENANTS, BENCH_WAIT_SECONDS, BENCH_LOG_LEVEL)
//
// A trial with fewer reports than the default (e.g. --reports 2000) writes its results to
// test-artifacts/bench-intake.json and leaves bench/results and the README alone. The service's log goes to
// test-artifacts/logs/bench-intake.log. `--cpu-prof DIR` runs the service under node --cpu-prof (a trial too).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { makeStamp } from '../../packages/domain/dist/index.js';
import { apiClient, commitInfo, cpuSeconds, freePort, loadAverage, machineInfo, peakRssBytes, percentiles, postgresPids, ROOT, startMain, waitUntilReady, writeResults } from '../lib.mjs';

const env = process.env;
const DEFAULT_REPORTS = 20_000;
const { values: flags } = parseArgs({
  options: {
    reports: { type: 'string' },
    connections: { type: 'string' },
    tenants: { type: 'string' },
    wait: { type: 'string' },
    'log-level': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'no-trip': { type: 'boolean' },
  },
});
const num = (flag, name, fallback) => {
  const v = Number(flag ?? env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench: ${name} (or its flag) must be a positive integer, not ${flag ?? env[name]}`);
  return v;
};
const REPORTS = num(flags.reports, 'BENCH_REPORTS', DEFAULT_REPORTS);
const CONNECTIONS = num(flags.connections, 'BENCH_CONNECTIONS', 8);
const MAX_CONNECTIONS = Math.max(20, CONNECTIONS * 4);
const TENANTS = Math.min(254, num(flags.tenants, 'BENCH_TENANTS', 50));
const WAIT_SECONDS = num(flags.wait, 'BENCH_WAIT_SECONDS', 600); // for the backlog after the last 250
const LOG_LEVEL = flags['log-level'] ?? env.BENCH_LOG_LEVEL ?? 'warn';
// --cpu-prof DIR: the service runs with node --cpu-prof into DIR (to see where its time goes); the profiler
// slows it, so such a run is a trial whatever its size.
const CPU_PROF_DIR = flags['cpu-prof'] ? path.resolve(flags['cpu-prof']) : null;
const MIX = { stamped: 0.7, ip: 0.2, duplicate: 0.05, unattributed: 0.05 };
const MAX_MESSAGE_BYTES = 10 * 2 ** 20; // the product default, set explicitly
const SMTP_TIMEOUT_MS = 60_000; // one reply not within this: the connection is dropped and the report failed
// A trial (fewer reports than the default) is not the figure the README records.
// --no-trip: every tenant's policy override raises the complaint rule out of reach (1,000,000 reports), so
// the rule is checked on every counted report but no ticket is opened or updated — the intake's own cost,
// for comparison. Also a trial: the README's figure is the product's default policy.
const NO_TRIP = flags['no-trip'] === true || env.BENCH_NO_TRIP === '1';
const TRIAL = REPORTS < DEFAULT_REPORTS || CPU_PROF_DIR !== null || NO_TRIP;

const ADMIN_TOKEN = 'adk_bench_intake_admin_token_0123456789';
const STAMP_SECRET = 'bench-intake-stamp-secret-0123456789';
const RUN = randomBytes(4).toString('hex'); // in every Message-ID, so no two runs' reports share one

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 3) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);
const seconds = (ms) => round(ms / 1000);

// ---- the reports ------------------------------------------------------------------------------------------
const FIXTURE = readFileSync(path.join(ROOT, 'services/intake/fixtures/arf-stamped.eml'), 'latin1').replace(/\r?\n/g, '\r\n');
const tenantIds = Array.from({ length: TENANTS }, (_, i) => `bench-t${String(i).padStart(3, '0')}`);
// Tenant i sends from 100.64.i.0/24, and every fifth tenant also from 2001:db8:i::/48.
const ranges = (i) => [{ cidr: `100.64.${i}.0/24` }, ...(i % 5 === 0 ? [{ cidr: `2001:db8:${i.toString(16)}::/48` }] : [])];

/** A small deterministic generator (mulberry32), so every run sends the same mix in the same order. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(17);
const pick = (n) => Math.floor(random() * n);

/**
 * The plan: REPORTS reports in the mix, shuffled; a duplicate resends a stamped report planned before it
 * (so the original is almost always stored first; were it not, the resend counts and the original is the
 * duplicate — the counts are the same).
 */
function plan() {
  const n = { duplicate: Math.round(REPORTS * MIX.duplicate), unattributed: Math.round(REPORTS * MIX.unattributed), ip: Math.round(REPORTS * MIX.ip) };
  n.stamped = REPORTS - n.duplicate - n.unattributed - n.ip;
  const kinds = [...Array(n.stamped).fill('stamped'), ...Array(n.ip).fill('ip'), ...Array(n.unattributed).fill('unattributed')];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  // The resends go into the second 95 % of the run, each after a stamped report at random before it.
  for (let d = 0; d < n.duplicate; d++) kinds.splice(Math.floor(kinds.length * 0.05) + pick(Math.ceil(kinds.length * 0.95)), 0, 'duplicate');
  const items = [];
  const stamped = [];
  for (const [i, kind] of kinds.entries()) {
    if (kind === 'duplicate') {
      const of = stamped.length ? stamped[pick(stamped.length)] : null;
      if (of) {
        items.push({ kind, of });
        continue;
      }
      // No stamped report before it (a tiny run): this one is the first of its pair, and stamped.
    }
    const tenant = pick(TENANTS);
    const item = { kind: kind === 'duplicate' ? 'stamped' : kind, tenant, messageId: `<bench.${RUN}.${i}@mail.${tenantIds[tenant]}.bench.example>` };
    if (item.kind === 'ip' && tenant % 5 === 0 && pick(4) === 0) item.ipv6 = true;
    if (item.kind === 'stamped') stamped.push(item);
    items.push(item);
  }
  return items;
}

/** The report for a planned item, made now: arrival now, its stamp signed now (a resend is signed anew too). */
function reportFor(item, i) {
  const original = item.kind === 'duplicate' ? item.of : item;
  const now = new Date();
  const tenant = original.tenant;
  const host = 1 + (i % 254);
  const sourceIp =
    original.kind === 'unattributed' ? `198.${18 + (i % 2)}.${(i >> 8) & 255}.${host}` : original.ipv6 ? `2001:db8:${tenant.toString(16)}::${host.toString(16)}` : `100.64.${tenant}.${host}`;
  let text = FIXTURE.replace('<20261130.stamped@mail.acme.example>', original.messageId)
    .replace('<fbl.9f1c2e7a.20251130110510@fbl-out.example.net>', `<fbl.${RUN}.${i}@fbl-out.example.net>`)
    .replace(/^Arrival-Date: .*$/m, `Arrival-Date: ${now.toUTCString().replace('GMT', '+0000')}`)
    .replace(/^Source-IP: .*$/m, `Source-IP: ${sourceIp}`);
  if (original.kind === 'stamped') text = text.replace(/^X-Abuse-Desk-Tenant: .*$/m, `X-Abuse-Desk-Tenant: ${makeStamp(tenantIds[tenant], Math.floor(now.getTime() / 1000), original.messageId, STAMP_SECRET)}`);
  else text = text.replace(/^X-Abuse-Desk-Tenant: .*\r\n/m, '');
  return text;
}

// ---- a small SMTP client ----------------------------------------------------------------------------------
/** One SMTP session over node:net: replies are read whole (multi-line ones too) and handed out in order. */
class SmtpSession {
  constructor(port) {
    this.port = port;
    this.replies = [];
    this.waiters = [];
    this.lines = [];
    this.buffer = '';
    this.closed = null;
  }

  async open() {
    this.socket = netConnect({ host: '127.0.0.1', port: this.port });
    this.socket.setNoDelay(true);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.onClose(err.message));
    this.socket.on('close', () => this.onClose('connection closed'));
    await new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.expect(await this.reply(), 220, 'greeting');
    this.expect(await this.command('EHLO bench-feedback-loop.example'), 250, 'EHLO');
  }

  onData(chunk) {
    this.buffer += chunk;
    let at;
    while ((at = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      this.lines.push(line);
      // "250-…" continues a reply, "250 …" (or "250") ends it.
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
        this.lines = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(reply);
        else this.replies.push(reply);
      }
    }
  }

  onClose(why) {
    if (this.closed) return;
    this.closed = why;
    for (const w of this.waiters.splice(0)) w.resolve({ code: 0, text: why });
  }

  reply() {
    if (this.replies.length) return Promise.resolve(this.replies.shift());
    if (this.closed) return Promise.resolve({ code: 0, text: this.closed });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        this.onClose(`no reply within ${SMTP_TIMEOUT_MS / 1000} s`);
      }, SMTP_TIMEOUT_MS);
      this.waiters.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  command(line) {
    if (!this.closed) this.socket.write(`${line}\r\n`, 'latin1');
    return this.reply();
  }

  expect(reply, code, what) {
    if (reply.code !== code) throw new Error(`bench: ${what} answered ${reply.code || '(nothing)'}: ${reply.text}`);
  }

  /**
   * One transaction; `{ ok, failedAt, code, ms, storeMs }`. The data is sent dot-stuffed (a line that starts
   * with "." gets another) and ended with CRLF.CRLF.
   */
  async send(from, to, text) {
    const t0 = performance.now();
    const steps = [
      ['RSET', 'RSET', 250],
      ['MAIL', `MAIL FROM:<${from}> SIZE=${Buffer.byteLength(text, 'latin1')}`, 250],
      ['RCPT', `RCPT TO:<${to}>`, 250],
      ['DATA', 'DATA', 354],
    ];
    for (const [name, line, code] of steps) {
      const r = await this.command(line);
      if (r.code !== code) return { ok: false, failedAt: name, code: r.code, text: r.text };
    }
    const body = text.replace(/^\./gm, '..');
    const tData = performance.now();
    if (!this.closed) this.socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1');
    const r = await this.reply();
    const t1 = performance.now();
    if (r.code !== 250) return { ok: false, failedAt: 'end of data', code: r.code, text: r.text };
    return { ok: true, ms: t1 - t0, storeMs: t1 - tData, text: r.text };
  }

  async quit() {
    if (this.closed) return;
    await this.command('QUIT');
    this.socket.end();
  }
}

// ---- the service ------------------------------------------------------------------------------------------
function startService({ databaseUrl, port, smtpPort }) {
  const baseUrl = `http://127.0.0.1:${port}`;
  const nodeArgs = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  return startMain({
    logName: 'bench-intake',
    baseUrl,
    nodeArgs,
    env: {
      PATH: env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      ADMIN_TOKEN,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL,
      ROLES: 'api,intake',
      INTAKE_SMTP_PORT: String(smtpPort),
      INTAKE_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      // All the bench's connections come from one address, which may hold a quarter of the limit.
      INTAKE_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      TENANT_STAMP_SECRET: STAMP_SECRET,
    },
  });
}


/** The sum of a metric's series matching `labels` in a Prometheus text page; null when absent. */
function metricSum(page, name, labels = {}) {
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})?\\s+(\\S+)`, 'gm');
  let sum = null;
  for (const m of page.matchAll(re)) {
    const set = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).some(([k, v]) => set[k] !== v)) continue;
    sum = (sum ?? 0) + Number(m[2]);
  }
  return sum;
}

function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

/** CPU seconds of the service, of every PostgreSQL process (processes gone in between are missed) and of the bench. */
function cpuSnapshot(servicePid) {
  const own = process.cpuUsage();
  return { service: cpuSeconds(servicePid), postgres: new Map(postgresPids().map((p) => [p, cpuSeconds(p)])), bench: (own.user + own.system) / 1e6 };
}
function cpuBetween(a, b) {
  let postgres = 0;
  for (const [pid, v] of b.postgres) postgres += v - (a.postgres.get(pid) ?? 0);
  return { service: round(b.service - a.service, 1), postgres: round(postgres, 1), bench: round(b.bench - a.bench, 1) };
}

// ---- the run ----------------------------------------------------------------------------------------------
const commit = commitInfo();
const loadAtStart = loadAverage();
const date = new Date().toISOString();
const runStart = Date.now();
// Everything started is stopped again in `finally`, also when the run fails or is interrupted.
const cleanup = [];
const runCleanup = async () => {
  while (cleanup.length) await cleanup.shift()().catch((err) => console.error(`bench: cleanup: ${err.message}`));
};
process.once('SIGINT', () => {
  console.error('bench: interrupted; stopping the service and dropping the database');
  runCleanup().finally(() => process.exit(130));
});
let stopping = false; // set when the run ends, so the background loop stops

try {
  const database = await createPostgresDatabase(testDatabaseUrl(env));
  cleanup.unshift(() => database.drop());
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  cleanup.unshift(() => db.end());
  const postgresVersion = (await db.query('show server_version')).rows[0].server_version;

  const smtpPort = await freePort();
  const svc = startService({ databaseUrl: database.url, port: await freePort(), smtpPort });
  cleanup.unshift(() => svc.stop());
  await waitUntilReady(svc);
  const rssAtReady = rssBytes(svc.child.pid);
  const api = apiClient(svc.baseUrl, ADMIN_TOKEN);
  console.log(
    `intake: ${REPORTS} reports over SMTP from ${CONNECTIONS} connections, ${TENANTS} tenants; mix ${Object.entries(MIX).map(([k, v]) => `${Math.round(v * 100)} % ${k}`).join(', ')}; service log: ${svc.logFile}`,
  );

  // ---- 1. setup: tenants and their IP ranges over the admin API ----
  for (const [i, id] of tenantIds.entries()) {
    const a = await api('PUT', `/v1/tenants/${id}`, { name: `Tenant ${id}` });
    if (a.status !== 200 && a.status !== 201) throw new Error(`bench: PUT /v1/tenants/${id} answered ${a.status}: ${JSON.stringify(a.body)}`);
    const b = await api('PUT', `/v1/tenants/${id}/ips`, ranges(i));
    if (b.status !== 200) throw new Error(`bench: PUT /v1/tenants/${id}/ips answered ${b.status}: ${JSON.stringify(b.body)}`);
    if (NO_TRIP) {
      const c = await api('PUT', `/v1/tenants/${id}/policy`, { policy: { complaints: { windowSeconds: 86400, minComplaints: 1_000_000, minComplaintRate: 1 } }, reason: 'bench/intake --no-trip' });
      if (c.status !== 200) throw new Error(`bench: PUT /v1/tenants/${id}/policy answered ${c.status}: ${JSON.stringify(c.body)}`);
    }
  }
  const items = plan();
  const expected = {
    counted: items.filter((x) => x.kind === 'stamped' || x.kind === 'ip').length,
    duplicate: items.filter((x) => x.kind === 'duplicate').length,
    unattributed: items.filter((x) => x.kind === 'unattributed').length,
    dead_letter: 0,
  };
  const expectedBy = { stamp: items.filter((x) => x.kind === 'stamped').length, ip: items.filter((x) => x.kind === 'ip').length };
  console.log(
    `setup: ${TENANTS} tenants, ${tenantIds.reduce((a, _, i) => a + ranges(i).length, 0)} IP ranges; planned ${expected.counted} to count (${expectedBy.stamp} stamped, ${expectedBy.ip} by IP), ${expected.duplicate} duplicates, ${expected.unattributed} unattributed`,
  );

  // ---- the watch: the backlog, the service's RSS, every second ----
  const watch = { samples: [], rssMax: 0 };
  const sendState = { accepted: 0, failed: 0, started: null };
  const pendingNow = async () => (await db.query(`select count(*)::int as n from complaint_reports where status in ('pending', 'dispatching')`)).rows[0].n;
  let watcher = null;
  const startWatch = (t0) => {
    watcher = (async () => {
      while (!stopping) {
        const t = Date.now();
        const accepted = sendState.accepted;
        const pending = await pendingNow().catch(() => null);
        try {
          watch.rssMax = Math.max(watch.rssMax, rssBytes(svc.child.pid) ?? 0);
        } catch {
          // the process is gone; svc.alive() says so
        }
        watch.samples.push({ s: seconds(t - t0), accepted, pending, done: pending === null ? null : Math.max(0, accepted - pending) });
        watch.last = watch.samples.at(-1);
        await sleep(Math.max(0, 1000 - (Date.now() - t)));
      }
    })();
  };
  cleanup.unshift(async () => {
    stopping = true;
    await watcher;
  });

  // ---- 2. send: CONNECTIONS sessions take the next planned report until none is left ----
  const latencyMs = [];
  const storeMs = [];
  const failures = new Map(); // "RCPT 451" → count
  const fail = (what) => failures.set(what, (failures.get(what) ?? 0) + 1);
  let next = 0;
  let lastAcceptedAt = null;
  let reconnects = 0;
  const cpuAtStart = cpuSnapshot(svc.child.pid);
  const sendStart = Date.now();
  sendState.started = sendStart;
  startWatch(sendStart);
  const worker = async () => {
    let session = null;
    while (next < items.length) {
      if (!session || session.closed) {
        if (session) reconnects += 1;
        session = new SmtpSession(smtpPort);
        try {
          await session.open();
        } catch (err) {
          svc.alive();
          throw err;
        }
      }
      const i = next++;
      const r = await session.send('fbl-noreply@example.net', 'fbl@abuse-desk.example', reportFor(items[i], i));
      if (r.ok) {
        sendState.accepted += 1;
        lastAcceptedAt = Date.now();
        latencyMs.push(r.ms);
        storeMs.push(r.storeMs);
      } else {
        sendState.failed += 1;
        fail(`${r.failedAt} ${r.code || 'no reply'}`);
        if (sendState.failed <= 5) console.error(`bench: report ${i} refused at ${r.failedAt}: ${r.code} ${r.text}`);
      }
    }
    await session?.quit();
  };
  let lastProgress = Date.now();
  const progress = setInterval(() => {
    if (Date.now() - lastProgress < 10_000) return;
    lastProgress = Date.now();
    const w = watch.last;
    console.log(`  +${Math.round((Date.now() - sendStart) / 1000)} s: ${sendState.accepted} accepted, ${sendState.failed} failed, ${w?.pending ?? '–'} waiting to be processed, RSS ${Math.round(watch.rssMax / 2 ** 20)} MB max`);
  }, 1000);
  cleanup.unshift(async () => clearInterval(progress));
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const sendEnd = lastAcceptedAt ?? Date.now();
  svc.alive();
  // Every 250 so far is a stored report: those not done are the backlog.
  const backlogAtSendEnd = await pendingNow();
  const doneAtSendEnd = sendState.accepted - backlogAtSendEnd;
  console.log(
    `send: ${sendState.accepted} reports answered 250 in ${seconds(sendEnd - sendStart)} s (${Math.round((sendState.accepted * 1000) / (sendEnd - sendStart))}/s), ${sendState.failed} failed; backlog ${backlogAtSendEnd} not yet processed`,
  );

  // ---- 3. the backlog drains ----
  const waitUntil = Date.now() + WAIT_SECONDS * 1000;
  let allDone = false;
  for (;;) {
    svc.alive();
    const pending = await pendingNow();
    if (pending === 0) {
      allDone = true;
      break;
    }
    if (Date.now() > waitUntil) break;
    if (Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now();
      console.log(`  +${Math.round((Date.now() - sendStart) / 1000)} s: ${pending} waiting to be processed, RSS ${Math.round(watch.rssMax / 2 ** 20)} MB max`);
    }
    await sleep(250);
  }
  const cpuAtEnd = cpuSnapshot(svc.child.pid);
  const drainedAt = Date.now();
  clearInterval(progress);
  stopping = true;
  await watcher;
  svc.alive();
  const peakRss = peakRssBytes(svc.child.pid);
  const rssAtEnd = rssBytes(svc.child.pid);

  // ---- the figures ----
  const byOutcome = (await db.query(`select coalesce(outcome, status) as outcome, coalesce(attributed_by, 'none') as by, count(*)::int as n from complaint_reports group by 1, 2 order by 1, 2`)).rows;
  const actual = { counted: 0, duplicate: 0, unattributed: 0, dead_letter: 0 };
  const actualBy = {};
  for (const r of byOutcome) {
    actual[r.outcome] = (actual[r.outcome] ?? 0) + r.n;
    actualBy[`${r.outcome}/${r.by}`] = r.n;
  }
  const stored = Object.values(actual).reduce((a, n) => a + n, 0);
  const times = (
    await db.query(`select min(received_at) as first_received, max(received_at) as last_received, max(processed_at) as last_processed,
                           count(*) filter (where processed_at <= to_timestamp(${sendEnd / 1000}))::int as done_while_sending
                    from complaint_reports`)
  ).rows[0];
  const wait = (
    await db.query(`select percentile_disc(0.5) within group (order by w) as p50, percentile_disc(0.99) within group (order by w) as p99, max(w) as max
                    from (select extract(epoch from processed_at - received_at)::float8 as w from complaint_reports where status = 'done') x`)
  ).rows[0];
  const storage = (
    await db.query(`select pg_total_relation_size('complaint_reports')::float8 as total, pg_relation_size('complaint_reports')::float8 as heap,
                           pg_table_size('complaint_reports')::float8 as table_with_toast, pg_indexes_size('complaint_reports')::float8 as indexes,
                           (select coalesce(sum(octet_length(raw)), 0) from complaint_reports)::float8 as raw`)
  ).rows[0];
  const ticketsOpened = (await db.query(`select count(*)::int as n from tickets where rule = 'complaints'`)).rows[0].n;
  const deadLetters = (await db.query(`select count(*)::int as n from dead_letters where source like 'complaint-%'`)).rows[0].n;
  const page = await fetch(`${svc.baseUrl}/metrics`).then((r) => r.text(), () => '');
  const metrics = {
    receivedSmtp: metricSum(page, 'abuse_desk_complaint_reports_received_total', { source: 'smtp' }),
    processed: metricSum(page, 'abuse_desk_complaint_reports_processed_total'),
    queueOldestSeconds: metricSum(page, 'abuse_desk_complaint_queue_oldest_seconds'),
  };

  const lastProcessed = times.last_processed ? new Date(times.last_processed).getTime() : null;
  const processingMs = allDone && lastProcessed ? lastProcessed - sendStart : null;
  const doneWhileSending = times.done_while_sending;
  const acceptMs = sendEnd - sendStart;
  const lat = percentiles(latencyMs);
  const store = percentiles(storeMs);
  const ms = (p) => ({ seen: p.seen, p50: round(p.p50, 1), p99: round(p.p99, 1), max: round(p.max, 1) });
  const outcomesMatch = Object.keys(expected).every((k) => actual[k] === expected[k]) && stored === sendState.accepted;
  const figures = {
    sent: items.length,
    accepted: sendState.accepted,
    failed: sendState.failed,
    failures: Object.fromEntries(failures),
    reconnects,
    acceptance: {
      seconds: seconds(acceptMs),
      perSecond: round((sendState.accepted * 1000) / acceptMs, 1),
      transactionMs: ms(lat),
      storeMs: ms(store),
    },
    processing: {
      allDone,
      seconds: processingMs === null ? null : seconds(processingMs),
      perSecond: processingMs === null ? null : round((stored * 1000) / processingMs, 1),
      whileSendingPerSecond: round((doneWhileSending * 1000) / acceptMs, 1),
      afterSendingPerSecond: allDone && lastProcessed > sendEnd ? round(((stored - doneWhileSending) * 1000) / (lastProcessed - sendEnd), 1) : null,
      backlogAtSendEnd,
      doneAtSendEnd,
      drainSeconds: allDone && lastProcessed ? seconds(Math.max(0, lastProcessed - sendEnd)) : null,
      waitSeconds: { p50: round(wait.p50, 2), p99: round(wait.p99, 2), max: round(wait.max, 2) },
      notDone: allDone ? 0 : await pendingNow(),
    },
    outcomes: { expected, actual, expectedByAttribution: expectedBy, actualByOutcomeAndAttribution: actualBy, stored, match: outcomesMatch },
    complaintTicketsOpened: ticketsOpened,
    deadLetters,
    metrics,
    peakRssBytes: peakRss,
    rssAtReadyBytes: rssAtReady,
    rssAtEndBytes: rssAtEnd,
    storage: {
      totalBytes: storage.total,
      heapBytes: storage.heap,
      toastBytes: storage.table_with_toast - storage.heap,
      indexBytes: storage.indexes,
      rawBytes: storage.raw,
      bytesPerReport: stored ? round(storage.total / stored, 0) : null,
      rawBytesPerReport: stored ? round(storage.raw / stored, 0) : null,
    },
    cpuSeconds: cpuBetween(cpuAtStart, cpuAtEnd),
    cpuWallSeconds: seconds(drainedAt - sendStart),
    timeline: watch.samples.filter((_, i) => i % 5 === 0 || i === watch.samples.length - 1),
    totalSeconds: seconds(Date.now() - runStart),
  };
  const targets = {
    everyReportStored: { target: 'every report answered 250', met: sendState.failed === 0 && sendState.accepted === items.length },
    outcomesAsSent: { target: 'counted / duplicate / unattributed / dead_letter as the mix sent', met: outcomesMatch },
    backlogDrained: { target: `every stored report processed within ${WAIT_SECONDS} s of the last 250`, met: allDone },
  };

  const yes = (t) => (t.met ? 'met' : 'MISSED');
  const machine = machineInfo({ postgres: `PostgreSQL ${postgresVersion} at ${new URL(testDatabaseUrl(env)).host}` });
  const loadAtEnd = loadAverage();
  const f = figures;
  const mb = (b) => `${Math.round(b / 2 ** 20)} MB`;
  console.log(
    [
      `machine: ${machine.cpus} × ${machine.model}, ${machine.node}, ${machine.postgres}; load average ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
      `acceptance: ${f.accepted} of ${f.sent} answered 250 in ${f.acceptance.seconds} s: ${f.acceptance.perSecond} reports/s over ${CONNECTIONS} connections; transaction p50 ${f.acceptance.transactionMs.p50} ms, p99 ${f.acceptance.transactionMs.p99} ms, max ${f.acceptance.transactionMs.max} ms; store (end of data → 250) p50 ${f.acceptance.storeMs.p50} ms, p99 ${f.acceptance.storeMs.p99} ms, max ${f.acceptance.storeMs.max} ms; ${f.failed} failed${f.failed ? ` (${Object.entries(f.failures).map(([k, n]) => `${n} × ${k}`).join(', ')})` : ''} — ${yes(targets.everyReportStored)}`,
      `processing: ${allDone ? `all ${stored} done ${f.processing.seconds} s after the first send: ${f.processing.perSecond} reports/s` : `NOT all done within ${WAIT_SECONDS} s of the last 250`}; ${f.processing.whileSendingPerSecond}/s while reports came in, ${f.processing.afterSendingPerSecond ?? '—'}/s after; backlog ${backlogAtSendEnd} at the last 250, drained ${f.processing.drainSeconds ?? '—'} s later; stored → done p50 ${f.processing.waitSeconds.p50} s, p99 ${f.processing.waitSeconds.p99} s, max ${f.processing.waitSeconds.max} s — ${yes(targets.backlogDrained)}`,
      `outcomes: ${Object.keys(expected).map((k) => `${k} ${actual[k]} (sent ${expected[k]})`).join(', ')}; by attribution ${Object.entries(actualBy).map(([k, n]) => `${k} ${n}`).join(', ')}; ${ticketsOpened} complaint tickets opened; ${deadLetters} dead letters — ${yes(targets.outcomesAsSent)}`,
      `service peak RSS ${mb(peakRss)} (VmHWM; ${mb(rssAtReady)} when ready, ${mb(rssAtEnd)} at the end); complaint_reports ${mb(storage.total)} on disk (heap ${mb(storage.heap)}, TOAST ${mb(storage.table_with_toast - storage.heap)}, indexes ${mb(storage.indexes)}): ${f.storage.bytesPerReport} B per report, ${f.storage.rawBytesPerReport} B of it the raw report`,
      `CPU seconds over ${f.cpuWallSeconds} s: service ${f.cpuSeconds.service}, PostgreSQL ${f.cpuSeconds.postgres}, the bench ${f.cpuSeconds.bench}; metrics: received{smtp} ${metrics.receivedSmtp}, processed ${metrics.processed}; total ${f.totalSeconds} s`,
    ].join('\n'),
  );

  const result = {
    benchmark: 'intake',
    date,
    commit,
    machine,
    load: { start: loadAtStart, end: loadAtEnd },
    parameters: {
      REPORTS,
      CONNECTIONS,
      TENANTS,
      MIX: Object.entries(MIX).map(([k, v]) => `${k}:${v}`).join(','),
      ROLES: 'api,intake',
      LOG_LEVEL,
      INTAKE_MAX_MESSAGE_BYTES: MAX_MESSAGE_BYTES,
      INTAKE_MAX_CONNECTIONS: MAX_CONNECTIONS,
      WAIT_SECONDS,
      ...(NO_TRIP ? { NO_TRIP } : {}),
    },
    figures,
    targets,
  };
  if (TRIAL) {
    const file = path.join(ROOT, 'test-artifacts', 'bench-intake.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`bench: a trial of ${REPORTS} reports; wrote ${path.relative(ROOT, file)} (bench/results and the README are left alone)`);
  } else {
    await writeResults('intake', result);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  stopping = true;
  await runCleanup();
}
