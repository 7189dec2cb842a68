// bench/surge: a platform-wide spam wave (issue 14). TENANTS tenants (default 1,000), each with two phone
// contacts of its own and one technical account manager shared by all of them (same name, number and
// address on every list, preferring the phone), cross their policy thresholds within SURGE_SECONDS (30 s)
// through HTTP ingest. The real service runs as one process with all four roles on a fresh PostgreSQL
// database, calls through the Twilio stand-in and mails a real SMTP server (the testkit's sink). Nobody
// answers: about 2 s after each Calls.json create the bench posts the call's signed status callbacks,
// `ringing` then `no-answer`, so every tenant's walk runs to its end — call contact 1, follow-up email,
// call contact 2, follow-up email, final email to all — and the TAM's messages go into digests.
//
// Phases:
//   1. setup — the tenants and their contact lists over the admin API (20 requests at a time), then 49
//      spam verdicts per tenant (one short of the default policy's 50), up to 10,000 per POST;
//   2. surge — each tenant's crossing verdict is posted at its moment, evenly spread over SURGE_SECONDS,
//      a few tenants per POST (one POST per 100 ms at most). The answer's `ticketsOpened` holds the tickets
//      the request committed: ticket commit latency = answer time − send time;
//   3. walks — until every ticket is `awaiting_response`, no attempt is pending, dispatching, placed or
//      held, both contacts of every tenant have their follow-up and final emails, and every ticket shows
//      in the TAM's mail (or one more digest period has passed), bounded by WALK_WAIT_SECONDS. Meanwhile,
//      every second: the call queue gauges from /metrics, /readyz, and the service's VmRSS.
//
// Figures (printed, and written with the commit, machine and load to bench/results/surge.json, from which
// bench/report.mjs renders the README's table):
//   - ticket commit latency, p50/p95/p99/max (target p99 ≤ 5 s);
//   - Calls.json creates in any calendar second and in any sliding 1-second window, from the stand-in's
//     arrival times (target: never above TWILIO_CALLS_PER_SECOND), and the contact calls' mean rate from the
//     first to the last (at full size the queue is never empty in between, so this is the pace it drains at);
//   - crossing sent → first call to the tenant's first contact (target: all within TENANTS / rate + 60 s),
//     and when the last first-contact call and the first second-contact call went out (whether the queue
//     puts every tenant's first call before other tenants' second calls);
//   - the TAM: digest emails and the smallest gap between two (target ≥ DIGEST_MINUTES, less 0.5 s for
//     SMTP delivery jitter, as arrival times are taken at the sink), per-ticket emails (target 0), calls to
//     the TAM's number and the smallest gap between two, tickets that appear in the TAM's mail;
//   - lost or doubled: exactly one call, one follow-up and one final email for every tenant contact;
//     attempts that ended failed or unknown;
//   - the longest call queue and its oldest entry's age (/metrics), the service's peak RSS (VmHWM;
//     target < 400 MB), the total time.
// A missed target is recorded (`targets` in the results), not an error: the run fails (exit 1, with a
// message, no results written) only when the bench itself breaks — the service dies, setup is refused, the
// pre-spam already trips a tenant.
//
// Settings: DIGEST_MINUTES is 1 here (the product default is 5) so that a run of a few minutes spans
// several digest periods; TWILIO_CALLS_PER_SECOND is 10, CALLS_PER_NUMBER_PER_HOUR 4, CALL_RING_SECONDS 20,
// RESOLUTION_TIMEOUT_SECONDS 3600 (no suspension during the run), WORK_LEASE_SECONDS 10.
//
//   pnpm bench:surge    (BENCH_TENANTS=1000 BENCH_CALLS_PER_SECOND=10 BENCH_DIGEST_MINUTES=1
//                        BENCH_SURGE_SECONDS=30 BENCH_WALK_WAIT_SECONDS=TENANTS*2/rate+300+digest period
//                        BENCH_LOG_LEVEL=warn)
//
// A trial with fewer tenants (BENCH_TENANTS=50) writes its results to test-artifacts/bench-surge.json
// and leaves bench/results and the README alone. The service's log goes to test-artifacts/logs/bench-surge.log.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { signedPost, startSmtpSink, startTwilioStandin } from '../../packages/testkit/dist/index.js';
import { apiClient, commitInfo, freePort, loadAverage, machineInfo, peakRssBytes, percentiles, ROOT, startMain, waitUntilReady, writeResults } from '../lib.mjs';

const env = process.env;
const TENANTS = Number(env.BENCH_TENANTS ?? 1000);
const CALLS_PER_SECOND = Number(env.BENCH_CALLS_PER_SECOND ?? 10);
const DIGEST_MINUTES = Number(env.BENCH_DIGEST_MINUTES ?? 1);
const SURGE_SECONDS = Number(env.BENCH_SURGE_SECONDS ?? 30);
const WALK_WAIT_SECONDS = Number(env.BENCH_WALK_WAIT_SECONDS ?? Math.ceil((TENANTS * 2) / CALLS_PER_SECOND + 300 + DIGEST_MINUTES * 60));
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'warn';
const CALLS_PER_NUMBER_PER_HOUR = 4;
const CALL_RING_SECONDS = 20;
const RESOLUTION_TIMEOUT_SECONDS = 3600;
const WORK_LEASE_SECONDS = 10;
const PRE_SPAM = 49; // the default policy trips at 50 spam+phish (and ≥ 5 %) within 600 s
const ANSWER_AFTER_MS = 2000; // "nobody answers" is reported this long after the create
const SETTLE_SECONDS = 5; // after the walks are done, for late or doubled mails to show
const COMMIT_TARGET_SECONDS = 5;
const RSS_TARGET_BYTES = 400 * 2 ** 20;
const DIGEST_GAP_JITTER_SECONDS = 0.5;
const FIRST_CALL_BOUND_SECONDS = TENANTS / CALLS_PER_SECOND + 60;
// A trial (fewer tenants than the issue's scenario) is not the figure the README records.
const TRIAL = TENANTS < 1000;

const ADMIN_TOKEN = 'adk_bench_surge_admin_token_0123456789';
const FROM_NUMBER = '+15005550006';
const TAM = { name: 'Sam Shared-TAM', phone: '+14155550199', email: 'tam@platform.bench.example', role: 'tam', preferredChannel: 'phone' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 3) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);
const seconds = (ms) => round(ms / 1000);

// ---- the tenants ----------------------------------------------------------------------------------------
const tenantIds = Array.from({ length: TENANTS }, (_, i) => `t${String(i).padStart(4, '0')}`);
/** Contact k (1 or 2) of tenant i: a number and an address no other contact has. */
const contactOf = (i, k) => ({
  name: `Contact ${k} of ${tenantIds[i]}`,
  phone: `+1555${String(i * 2 + k - 1).padStart(7, '0')}`,
  email: `contact${k}@${tenantIds[i]}.bench.example`,
  role: 'contact',
});
const byPhone = new Map(); // phone → { tenant, k }
const byEmail = new Map();
for (let i = 0; i < TENANTS; i++) {
  for (const k of [1, 2]) {
    byPhone.set(contactOf(i, k).phone, { tenant: i, k });
    byEmail.set(contactOf(i, k).email, { tenant: i, k });
  }
}

let verdictSeq = 0;
const spamVerdict = (i, at) => ({
  tenantId: tenantIds[i],
  messageId: `<${++verdictSeq}.${tenantIds[i]}@mail.bench.example>`,
  verdict: 'spam',
  occurredAt: at.toISOString(),
  sender: `billing@${tenantIds[i]}.bench.example`,
  recipients: 1,
});

/** Runs `fn` over `items`, `limit` at a time. */
async function inPool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---- what the mails say -----------------------------------------------------------------------------------
const DIGEST_SUBJECT = /^\[abuse-desk\] Digest\b/i;
const TICKET_IN_SUBJECT = /\[(ABU-\d+)\]/;
/** The kind of a per-ticket email, from its subject (packages/channels/src/email/templates.ts). */
function kindOfSubject(subject) {
  const rest = subject.replace(/^\[ABU-\d+\]\s*/, '');
  if (/^Final notice:/i.test(rest)) return 'final';
  if (/^TAM briefing:/i.test(rest)) return 'tam_briefing';
  if (/^Acknowledged:/i.test(rest)) return 'confirmation';
  if (/^(Resolved|Closed):/i.test(rest)) return 'reinstatement_notice';
  if (/^Outbound mail from .* disabled$/i.test(rest)) return 'suspension_notice';
  return 'followup';
}
/**
 * A digest's entries (packages/channels/src/email/digest.ts): one per line that starts with a ticket number
 * (after any bullet), `ABU-000123 · Tenant t0007 · TAM briefing: outbound spam from …` — the number, the
 * tenant's name and the subject the message would have had on its own, which gives the entry's kind.
 * Read from the plain text, or from the HTML without its tags.
 */
function digestEntries(mail) {
  const text = mail.text || (mail.html ? String(mail.html).replace(/<br\s*\/?>|<\/(p|li|tr|div|h\d)>/gi, '\n').replace(/<[^>]+>/g, '') : '');
  const entries = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:[-*•·–]\s*)?(ABU-\d+)\b(.*)$/.exec(line);
    if (!m) continue;
    const parts = m[2].split(' · ');
    const kind = parts.length >= 3 ? kindOfSubject(parts.slice(2).join(' · ').trim()) : 'unknown';
    entries.push({ number: m[1], kind });
  }
  return entries;
}

// ---- the service ------------------------------------------------------------------------------------------
function startService({ databaseUrl, port, standin, sink }) {
  const baseUrl = `http://127.0.0.1:${port}`;
  return startMain({
    logName: 'bench-surge',
    baseUrl,
    env: {
      PATH: env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      ADMIN_TOKEN,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL,
      SMTP_URL: sink.url,
      TWILIO_ACCOUNT_SID: standin.accountSid,
      TWILIO_AUTH_TOKEN: standin.authToken,
      TWILIO_FROM_NUMBER: FROM_NUMBER,
      TWILIO_API_BASE_URL: standin.baseUrl,
      TWILIO_CALLS_PER_SECOND: String(CALLS_PER_SECOND),
      CALLS_PER_NUMBER_PER_HOUR: String(CALLS_PER_NUMBER_PER_HOUR),
      DIGEST_MINUTES: String(DIGEST_MINUTES),
      CALL_RING_SECONDS: String(CALL_RING_SECONDS),
      RESOLUTION_TIMEOUT_SECONDS: String(RESOLUTION_TIMEOUT_SECONDS),
      WORK_LEASE_SECONDS: String(WORK_LEASE_SECONDS),
    },
  });
}


/** The largest value of a metric over all its series in a Prometheus text page; null when absent. */
function metric(page, name) {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'gm');
  let max = null;
  for (const m of page.matchAll(re)) {
    const v = Number(m[1]);
    if (Number.isFinite(v)) max = max === null ? v : Math.max(max, v);
  }
  return max;
}

function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

/** The most timestamps (ms) in any calendar second and in any window of 1,000 ms. */
function busiestSecond(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const perSecond = new Map();
  for (const t of sorted) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  let sliding = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= 1000) i++;
    sliding = Math.max(sliding, j - i + 1);
  }
  return { calendar: Math.max(0, ...perSecond.values()), sliding };
}

const smallestGap = (times) => {
  const s = [...times].sort((a, b) => a - b);
  let gap = null;
  for (let i = 1; i < s.length; i++) gap = gap === null ? s[i] - s[i - 1] : Math.min(gap, s[i] - s[i - 1]);
  return gap;
};

/** Nearest-rank p50/p95/p99/max (lib's `percentiles`, plus p95 by the same rule), in seconds. */
function spreadSeconds(valuesMs, missed = 0) {
  const p = percentiles(valuesMs, missed);
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const rank = Math.min(p.of, Math.max(1, Math.ceil(0.95 * p.of)));
  const p95 = p.of === 0 || rank > sorted.length ? null : sorted[rank - 1];
  return { seen: p.seen, of: p.of, missed: p.missed, p50: seconds(p.p50), p95: seconds(p95), p99: seconds(p.p99), max: seconds(p.max) };
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
let stopping = false; // set when the run ends, so the background loops stop

try {
  const database = await createPostgresDatabase(testDatabaseUrl(env));
  cleanup.unshift(() => database.drop());
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  cleanup.unshift(() => db.end());
  const postgresVersion = (await db.query('show server_version')).rows[0].server_version;
  const standin = await startTwilioStandin();
  cleanup.unshift(() => standin.close());
  const sink = await startSmtpSink();
  cleanup.unshift(() => sink.close());
  // What arrived, kept in a compact form: the sink's own list holds whole parsed mails, HTML included, so
  // it is drained as the run goes (thousands of mails stay small). `receivedAt` is when the sink accepted
  // each one, so digest gaps are exact whenever the list is drained.
  const mails = [];
  const drainMails = () => {
    for (const m of sink.messages.splice(0)) {
      const subject = m.subject ?? '';
      const digest = DIGEST_SUBJECT.test(subject);
      mails.push({ at: m.receivedAt?.getTime() ?? Date.now(), to: m.envelopeTo.map((a) => a.toLowerCase()), subject, digest, entries: digest ? digestEntries(m) : [] });
    }
    return mails;
  };

  const svc = startService({ databaseUrl: database.url, port: await freePort(), standin, sink });
  cleanup.unshift(() => svc.stop());
  await waitUntilReady(svc);
  const api = apiClient(svc.baseUrl, ADMIN_TOKEN);
  console.log(`surge: ${TENANTS} tenants × 2 contacts + one shared TAM; ${CALLS_PER_SECOND} calls/s, digest period ${DIGEST_MINUTES} min (the bench's default is 1 min, not the product's 5, so that a run of a few minutes spans several digest periods), at most ${CALLS_PER_NUMBER_PER_HOUR} calls per number per hour; service log: ${svc.logFile}`);

  // ---- 1. setup ----
  const setupStart = Date.now();
  await inPool([...tenantIds.keys()], 20, async (i) => {
    const a = await api('PUT', `/v1/tenants/${tenantIds[i]}`, { name: `Tenant ${tenantIds[i]}` });
    if (a.status !== 200 && a.status !== 201) throw new Error(`bench: PUT /v1/tenants/${tenantIds[i]} answered ${a.status}: ${JSON.stringify(a.body)}`);
    const b = await api('PUT', `/v1/tenants/${tenantIds[i]}/contacts`, [contactOf(i, 1), contactOf(i, 2), TAM]);
    if (b.status !== 200) throw new Error(`bench: PUT /v1/tenants/${tenantIds[i]}/contacts answered ${b.status}: ${JSON.stringify(b.body)}`);
  });
  const preAt = new Date();
  const pre = tenantIds.flatMap((_, i) => Array.from({ length: PRE_SPAM }, () => spamVerdict(i, preAt)));
  for (let off = 0; off < pre.length; off += 10_000) {
    const r = await api('POST', '/v1/verdicts', pre.slice(off, off + 10_000));
    if (r.status !== 200 || r.body.accepted !== Math.min(10_000, pre.length - off)) throw new Error(`bench: the pre-spam POST answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
    if (r.body.ticketsOpened.length) throw new Error(`bench: ${PRE_SPAM} spam verdicts per tenant already opened tickets (${r.body.ticketsOpened.slice(0, 5).join(', ')}…); the default policy is not what the bench expects`);
  }
  console.log(`setup: ${TENANTS} tenants with their contacts, ${pre.length} spam verdicts (${PRE_SPAM} each, no ticket), ${seconds(Date.now() - setupStart)} s`);

  // ---- the Twilio side: nobody answers ----
  const answered = new Set();
  const answering = new Set();
  const callbacks = { sent: 0, refused: 0 };
  const answer = async (call) => {
    const url = String(call.params.StatusCallback);
    const base = { CallSid: call.sid, AccountSid: standin.accountSid, From: call.from, To: call.to, Direction: 'outbound-api', ApiVersion: '2010-04-01' };
    for (const [status, seq] of [['ringing', 1], ['no-answer', 2]]) {
      call.status = status; // so that a lookup agrees with the callbacks
      const r = await signedPost(url, { ...base, CallStatus: status, SequenceNumber: String(seq), ...(status === 'no-answer' ? { CallDuration: '0' } : {}) }, standin.authToken).catch((err) => ({ status: 0, body: err.message }));
      callbacks.sent += 1;
      if (r.status < 200 || r.status >= 300) callbacks.refused += 1;
    }
  };
  const answerer = (async () => {
    while (!stopping) {
      const now = Date.now();
      for (const call of standin.calls.values()) {
        if (answered.has(call.sid) || call.createdAt.getTime() + ANSWER_AFTER_MS > now) continue;
        answered.add(call.sid);
        const p = answer(call).finally(() => answering.delete(p));
        answering.add(p);
      }
      await sleep(50);
    }
  })();
  cleanup.unshift(async () => {
    stopping = true;
    await answerer;
    await Promise.all(answering);
  });

  // ---- the watch: /metrics, /readyz and RSS every second ----
  const watch = { samples: 0, metricsSeen: false, queueMax: null, oldestMax: null, notReady: 0, rssMax: 0 };
  const watcher = (async () => {
    while (!stopping) {
      const t = Date.now();
      const page = await fetch(`${svc.baseUrl}/metrics`).then((r) => r.text(), () => '');
      const length = metric(page, 'abuse_desk_call_queue_length');
      const oldest = metric(page, 'abuse_desk_call_queue_oldest_seconds');
      if (length !== null || oldest !== null) watch.metricsSeen = true;
      if (length !== null) watch.queueMax = Math.max(watch.queueMax ?? 0, length);
      if (oldest !== null) watch.oldestMax = Math.max(watch.oldestMax ?? 0, oldest);
      if (!(await fetch(`${svc.baseUrl}/readyz`).then((r) => r.ok, () => false))) watch.notReady += 1;
      try {
        watch.rssMax = Math.max(watch.rssMax, rssBytes(svc.child.pid) ?? 0);
      } catch {
        // the process is gone; svc.alive() says so
      }
      watch.samples += 1;
      watch.last = { length, oldest };
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
  })();
  cleanup.unshift(async () => {
    stopping = true;
    await watcher;
  });

  // ---- 2. the surge ----
  const crossings = new Array(TENANTS); // per tenant: { sentAt, answeredAt, status, opened }
  const posts = [];
  const surgeStart = Date.now() + 100;
  const dueAt = (i) => surgeStart + ((i + 0.5) * SURGE_SECONDS * 1000) / TENANTS;
  const postCrossings = async (indices) => {
    const body = indices.map((i) => spamVerdict(i, new Date()));
    const sentAt = Date.now();
    const r = await api('POST', '/v1/verdicts', body).catch((err) => ({ status: 0, body: err.message }));
    const answeredAt = Date.now();
    const opened = r.status === 200 ? r.body.ticketsOpened : [];
    for (const i of indices) crossings[i] = { sentAt, answeredAt, status: r.status, opened };
  };
  let next = 0;
  let lastPost = 0;
  while (next < TENANTS) {
    svc.alive();
    await sleep(Math.max(0, Math.max(dueAt(next), lastPost + 100) - Date.now()));
    const now = Date.now();
    const batch = [];
    while (next < TENANTS && dueAt(next) <= now) batch.push(next++);
    lastPost = now;
    posts.push(postCrossings(batch));
  }
  await Promise.all(posts);
  const surgeEnd = Date.now();
  const failedPosts = crossings.filter((c) => c.status !== 200).length;
  console.log(`surge: ${TENANTS} crossing verdicts in ${posts.length} POSTs over ${seconds(surgeEnd - surgeStart)} s${failedPosts ? ` (${failedPosts} tenants' POSTs failed)` : ''}`);

  // ---- 3. the walks ----
  const counts = async () =>
    (
      await db.query(`select (select count(*) from tickets)::int as tickets,
                             (select count(*) from tickets where state <> 'awaiting_response')::int as walking,
                             (select count(*) from contact_attempts where status::text in ('pending', 'dispatching', 'placed', 'held'))::int as open`)
    ).rows[0];
  const contactMailsDone = () => {
    const got = new Set();
    for (const m of mails) {
      if (m.digest) continue;
      const kind = kindOfSubject(m.subject);
      if (kind === 'followup' || kind === 'final') for (const to of m.to) if (byEmail.has(to)) got.add(`${to} ${kind}`);
    }
    return got.size >= TENANTS * 4;
  };
  const ticketsInTamMail = () => {
    const seen = new Set();
    for (const m of mails) {
      if (!m.to.includes(TAM.email)) continue;
      if (m.digest) for (const e of m.entries) seen.add(e.number);
      else if (TICKET_IN_SUBJECT.test(m.subject)) seen.add(TICKET_IN_SUBJECT.exec(m.subject)[1]);
    }
    return seen;
  };
  const walkDeadline = surgeEnd + WALK_WAIT_SECONDS * 1000;
  let restDoneAt = null; // when everything but the TAM's mail was done
  let walksDoneAt = null;
  let lastProgress = 0;
  for (;;) {
    svc.alive();
    drainMails();
    const c = await counts();
    const tamSeen = ticketsInTamMail().size;
    const rest = c.tickets >= TENANTS && c.walking === 0 && c.open === 0 && answering.size === 0 && contactMailsDone();
    if (rest) restDoneAt ??= Date.now();
    else restDoneAt = null;
    // The TAM's last digest may follow the last walk by up to a digest period.
    if (rest && (tamSeen >= c.tickets || Date.now() - restDoneAt > (DIGEST_MINUTES * 60 + 15) * 1000)) {
      walksDoneAt = Date.now();
      break;
    }
    if (Date.now() > walkDeadline) break;
    if (Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now();
      console.log(
        `  +${Math.round((Date.now() - surgeStart) / 1000)} s: ${c.tickets} tickets, ${c.walking} still walking, ${c.open} attempts open, ${standin.calls.size} calls, ${mails.length} mails (${tamSeen} tickets in the TAM's), ` +
          `call queue ${watch.last?.length ?? '–'} (oldest ${watch.last?.oldest ?? '–'} s), RSS ${Math.round(watch.rssMax / 2 ** 20)} MB max`,
      );
    }
    await sleep(1000);
  }
  if (walksDoneAt) await sleep(SETTLE_SECONDS * 1000);
  svc.alive();
  const peakRss = peakRssBytes(svc.child.pid);
  stopping = true;
  await watcher;
  await answerer;
  await Promise.all(answering);
  drainMails();
  console.log(walksDoneAt ? `walks: done ${seconds(walksDoneAt - surgeStart)} s after the surge began` : `walks: NOT done within ${WALK_WAIT_SECONDS} s of the surge's end`);

  // ---- the figures ----
  const tickets = (await db.query('select number, tenant_id, state from tickets')).rows;
  const ticketOf = new Map(tickets.map((t) => [t.tenant_id, t.number]));
  const byState = {};
  for (const t of tickets) byState[t.state] = (byState[t.state] ?? 0) + 1;

  // Ticket commit latency: only a ticket in its own POST's answer counts as committed by it.
  const commitMs = [];
  tenantIds.forEach((id, i) => {
    const c = crossings[i];
    if (c.status === 200 && c.opened.includes(ticketOf.get(id))) commitMs.push(c.answeredAt - c.sentAt);
  });
  const ticketCommit = spreadSeconds(commitMs, TENANTS - commitMs.length);

  // Calls: every create request the stand-in saw (the rate), and the calls it made (per number).
  const creates = standin.requests.filter((r) => r.method === 'POST' && /\/Calls\.json$/.test(r.path));
  const busiest = busiestSecond(creates.map((r) => r.at.getTime()));
  const callsTo = new Map();
  for (const call of standin.calls.values()) callsTo.set(call.to, [...(callsTo.get(call.to) ?? []), call.createdAt.getTime()]);
  const firstCallMs = [];
  tenantIds.forEach((_, i) => {
    const first = callsTo.get(contactOf(i, 1).phone);
    if (first) firstCallMs.push(Math.min(...first) - crossings[i].sentAt);
  });
  const firstCall = spreadSeconds(firstCallMs, TENANTS - firstCallMs.length);
  // Whether first contacts went before second ones: when the last first-contact call and the first
  // second-contact call were created, from the surge's start.
  const callAt = (k, pick) => {
    const times = tenantIds.flatMap((_, i) => callsTo.get(contactOf(i, k).phone) ?? []);
    return times.length ? seconds(pick(...times) - surgeStart) : null;
  };
  // The pace the queue of contact calls drained at (the TAM's digest calls, once a period, would stretch it).
  const contactCallTimes = [...callsTo].filter(([to]) => byPhone.has(to)).flatMap(([, times]) => times);
  const contactCallSpanMs = contactCallTimes.length > 1 ? Math.max(...contactCallTimes) - Math.min(...contactCallTimes) : 0;
  const firstCallLate = firstCallMs.filter((ms) => ms > FIRST_CALL_BOUND_SECONDS * 1000).length + (TENANTS - firstCallMs.length);

  // Every tenant contact: one call, one follow-up, one final email, each about the tenant's own ticket.
  const perContact = { calls: new Map(), followups: new Map(), finals: new Map() };
  let strayMails = 0; // mails to a contact about another tenant's ticket, or of another kind
  for (const [phone, times] of callsTo) if (byPhone.has(phone)) perContact.calls.set(phone, times.length);
  for (const m of mails) {
    if (m.digest) continue;
    const kind = kindOfSubject(m.subject);
    const number = TICKET_IN_SUBJECT.exec(m.subject)?.[1];
    for (const to of m.to) {
      const who = byEmail.get(to);
      if (!who) continue;
      const map = kind === 'followup' ? perContact.followups : kind === 'final' ? perContact.finals : null;
      if (!map || number !== ticketOf.get(tenantIds[who.tenant])) strayMails += 1;
      else map.set(to, (map.get(to) ?? 0) + 1);
    }
  }
  const tally = (map, keys) => {
    let duplicates = 0;
    let missing = 0;
    let seen = 0;
    for (const key of keys) {
      const n = map.get(key) ?? 0;
      seen += n;
      if (n === 0) missing += 1;
      else duplicates += n - 1;
    }
    return { expected: keys.length, seen, duplicates, missing };
  };
  const allContacts = tenantIds.flatMap((_, i) => [contactOf(i, 1), contactOf(i, 2)]);
  const contacts = {
    calls: tally(perContact.calls, allContacts.map((c) => c.phone)),
    followups: tally(perContact.followups, allContacts.map((c) => c.email)),
    finals: tally(perContact.finals, allContacts.map((c) => c.email)),
    strayMails,
  };

  // The TAM: digests (and their entries), per-ticket mails, calls.
  const tamMails = mails.filter((m) => m.to.includes(TAM.email));
  const digests = tamMails.filter((m) => m.digest);
  const perTicketTam = tamMails.filter((m) => !m.digest);
  const entries = digests.flatMap((m) => m.entries);
  const inDigests = new Set(entries.map((e) => e.number));
  // A ticket's message of one kind listed twice (in one digest or two) is doubled.
  const entryCounts = new Map();
  for (const e of entries) entryCounts.set(`${e.number} ${e.kind}`, (entryCounts.get(`${e.number} ${e.kind}`) ?? 0) + 1);
  const entryKinds = {};
  for (const e of entries) entryKinds[e.kind] = (entryKinds[e.kind] ?? 0) + 1;
  const briefedInDigest = new Set(entries.filter((e) => e.kind === 'tam_briefing').map((e) => e.number));
  const briefedPerTicket = new Set(perTicketTam.filter((m) => kindOfSubject(m.subject) === 'tam_briefing').map((m) => TICKET_IN_SUBJECT.exec(m.subject)?.[1]));
  const tamCalls = callsTo.get(TAM.phone) ?? [];
  const digestGap = smallestGap(digests.map((m) => m.at));
  const tamCallGap = smallestGap(tamCalls);
  const tam = {
    digestEmails: digests.length,
    smallestDigestGapSeconds: seconds(digestGap),
    digestEntries: entries.length,
    digestEntryKinds: entryKinds,
    doubledDigestEntries: [...entryCounts.values()].reduce((a, n) => a + n - 1, 0),
    ticketsInDigests: tickets.filter((t) => inDigests.has(t.number)).length,
    ticketsBriefedInDigest: tickets.filter((t) => briefedInDigest.has(t.number)).length,
    perTicketEmails: perTicketTam.length,
    ticketsBriefedPerTicket: briefedPerTicket.size,
    ticketsNotInTamMail: tickets.filter((t) => !inDigests.has(t.number) && !briefedPerTicket.has(t.number)).length,
    calls: tamCalls.length,
    smallestCallGapSeconds: seconds(tamCallGap),
  };

  // Attempts as the database ended them.
  const attemptRows = (await db.query(`select kind, channel, status::text as status, coalesce(outcome, '') as outcome, count(*)::int as n from contact_attempts group by 1, 2, 3, 4 order by 1, 2, 3, 4`)).rows;
  const attempts = {
    failed: attemptRows.filter((r) => r.status === 'failed').reduce((a, r) => a + r.n, 0),
    unknown: attemptRows.filter((r) => r.outcome === 'unknown').reduce((a, r) => a + r.n, 0),
    rateLimited: attemptRows.filter((r) => r.outcome === 'rate-limited').reduce((a, r) => a + r.n, 0),
    byKind: attemptRows.map((r) => ({ kind: r.kind, channel: r.channel, status: r.status, outcome: r.outcome || null, count: r.n })),
  };
  const specErrors = creates.filter((r) => r.specErrors.length).length;
  // The digests as the database recorded them, to set beside what the sink and the stand-in saw (null
  // before the digests table exists).
  const digestRows = await db
    .query(`select channel, status, count(*)::int as n, coalesce(sum(items), 0)::int as items from digests group by 1, 2 order by 1, 2`)
    .then((r) => r.rows.map((x) => ({ channel: x.channel, status: x.status, count: x.n, items: x.items })), () => null);

  const figures = {
    walksDone: walksDoneAt !== null,
    walksDoneSeconds: walksDoneAt ? seconds(walksDoneAt - surgeStart) : null,
    surgeSeconds: seconds(surgeEnd - surgeStart),
    crossingPosts: posts.length,
    failedCrossingPosts: failedPosts,
    tickets: { opened: tickets.length, byState },
    ticketCommitSeconds: ticketCommit,
    calls: {
      creates: creates.length,
      refusedBySpec: specErrors,
      maxInCalendarSecond: busiest.calendar,
      maxInSlidingSecond: busiest.sliding,
      contactCallsMeanPerSecond: contactCallSpanMs > 0 ? round(((contactCallTimes.length - 1) * 1000) / contactCallSpanMs, 2) : null,
      callbacksSent: callbacks.sent,
      callbacksRefused: callbacks.refused,
    },
    firstContactCallSeconds: { boundSeconds: FIRST_CALL_BOUND_SECONDS, ...firstCall, beyondBound: firstCallLate },
    callOrder: { lastFirstContactCallSeconds: callAt(1, Math.max), firstSecondContactCallSeconds: callAt(2, Math.min) },
    tam,
    digestsInDatabase: digestRows,
    contacts,
    attempts,
    callQueue: { exported: watch.metricsSeen, maxLength: watch.queueMax, maxOldestSeconds: round(watch.oldestMax, 1) },
    readyz: { samples: watch.samples, notReady: watch.notReady },
    peakRssBytes: peakRss,
    totalSeconds: seconds(Date.now() - runStart),
  };
  const lostOrDoubled = ['calls', 'followups', 'finals'].reduce((a, k) => a + contacts[k].duplicates + contacts[k].missing, 0);
  const targets = {
    ticketCommitP99: { target: `p99 ≤ ${COMMIT_TARGET_SECONDS} s`, met: ticketCommit.p99 !== null && ticketCommit.p99 <= COMMIT_TARGET_SECONDS },
    callRateCalendarSecond: { target: `≤ ${CALLS_PER_SECOND} creates in any calendar second`, met: busiest.calendar <= CALLS_PER_SECOND },
    callRateSlidingSecond: { target: `≤ ${CALLS_PER_SECOND} creates in any 1-second window`, met: busiest.sliding <= CALLS_PER_SECOND },
    firstContactCalled: { target: `every first contact called within ${FIRST_CALL_BOUND_SECONDS} s of the crossing`, met: firstCallLate === 0 },
    tamDigestGap: { target: `≥ ${DIGEST_MINUTES} min between digests (${DIGEST_GAP_JITTER_SECONDS} s delivery jitter allowed)`, met: digests.length > 0 && (digestGap === null || digestGap >= DIGEST_MINUTES * 60_000 - DIGEST_GAP_JITTER_SECONDS * 1000) },
    tamNoPerTicketEmail: { target: '0 per-ticket emails to the TAM', met: perTicketTam.length === 0 },
    tamCallGap: { target: `≤ 1 TAM call per digest period`, met: tamCallGap === null || tamCallGap >= DIGEST_MINUTES * 60_000 - DIGEST_GAP_JITTER_SECONDS * 1000 },
    everyTicketInDigest: { target: "every ticket's TAM briefing in a digest, none doubled", met: tickets.length === TENANTS && tickets.every((t) => briefedInDigest.has(t.number)) && tam.doubledDigestEntries === 0 },
    nothingLostOrDoubled: { target: 'one call, follow-up and final email per contact; no failed or unknown attempt', met: lostOrDoubled === 0 && contacts.strayMails === 0 && attempts.failed === 0 && attempts.unknown === 0 },
    peakRss: { target: '< 400 MB', met: peakRss < RSS_TARGET_BYTES },
  };

  const yes = (t) => (t.met ? 'met' : 'MISSED');
  const s = (x) => (x === null ? '—' : `${x} s`);
  const tallyLine = (t) => `${t.seen} of ${t.expected}${t.duplicates ? `, ${t.duplicates} doubled` : ''}${t.missing ? `, ${t.missing} missing` : ''}`;
  const machine = machineInfo({ postgres: `PostgreSQL ${postgresVersion} at ${new URL(testDatabaseUrl(env)).host}` });
  const loadAtEnd = loadAverage();
  console.log(
    [
      `machine: ${machine.cpus} × ${machine.model}, ${machine.node}, ${machine.postgres}; load average ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
      `tickets: ${tickets.length} opened (${Object.entries(byState).map(([k, v]) => `${v} ${k}`).join(', ')})`,
      `ticket commit, crossing sent → POST answered: p50 ${s(ticketCommit.p50)}, p95 ${s(ticketCommit.p95)}, p99 ${s(ticketCommit.p99)}, max ${s(ticketCommit.max)} (${ticketCommit.seen} of ${ticketCommit.of} committed by their POST) — target p99 ≤ ${COMMIT_TARGET_SECONDS} s: ${yes(targets.ticketCommitP99)}`,
      `calls: ${creates.length} creates (${specErrors} refused by the spec), at most ${busiest.calendar} in a calendar second, ${busiest.sliding} in any 1-s window, contact calls ${figures.calls.contactCallsMeanPerSecond ?? '—'}/s from the first to the last — target ≤ ${CALLS_PER_SECOND}: ${yes(targets.callRateCalendarSecond)} / ${yes(targets.callRateSlidingSecond)}`,
      `first contact called after the crossing: p50 ${s(firstCall.p50)}, p99 ${s(firstCall.p99)}, max ${s(firstCall.max)}; ${firstCallLate} beyond ${FIRST_CALL_BOUND_SECONDS} s — ${yes(targets.firstContactCalled)} (last first-contact call at +${s(figures.callOrder.lastFirstContactCallSeconds)}, first second-contact call at +${s(figures.callOrder.firstSecondContactCallSeconds)})`,
      `TAM: ${tam.digestEmails} digests (smallest gap ${s(tam.smallestDigestGapSeconds)}; ${tam.digestEntries} entries: ${Object.entries(entryKinds).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}; ${tam.doubledDigestEntries} doubled), ${tam.perTicketEmails} per-ticket emails, ${tam.calls} calls (smallest gap ${s(tam.smallestCallGapSeconds)}), ${attempts.rateLimited} attempts rate-limited; ` +
        `${tam.ticketsInDigests} tickets in a digest (${tam.ticketsBriefedInDigest} with their briefing), ${tam.ticketsNotInTamMail} in no TAM mail — digest gap ${yes(targets.tamDigestGap)}, no per-ticket mail ${yes(targets.tamNoPerTicketEmail)}, call gap ${yes(targets.tamCallGap)}, every ticket in a digest ${yes(targets.everyTicketInDigest)}`,
      `contacts: calls ${tallyLine(contacts.calls)}; follow-ups ${tallyLine(contacts.followups)}; finals ${tallyLine(contacts.finals)}; ${contacts.strayMails} stray mails; attempts failed ${attempts.failed}, unknown ${attempts.unknown} — ${yes(targets.nothingLostOrDoubled)}`,
      `call queue (/metrics): ${watch.metricsSeen ? `max length ${watch.queueMax}, oldest ${round(watch.oldestMax, 1)} s` : 'not exported'}; /readyz not ready in ${watch.notReady} of ${watch.samples} samples`,
      `service peak RSS ${Math.round(peakRss / 2 ** 20)} MB — target < 400 MB: ${yes(targets.peakRss)}`,
      `status callbacks: ${callbacks.sent} sent, ${callbacks.refused} refused; total ${figures.totalSeconds} s`,
    ].join('\n'),
  );

  const result = {
    benchmark: 'surge',
    date,
    commit,
    machine,
    load: { start: loadAtStart, end: loadAtEnd },
    parameters: {
      TENANTS,
      SURGE_SECONDS,
      TWILIO_CALLS_PER_SECOND: CALLS_PER_SECOND,
      CALLS_PER_NUMBER_PER_HOUR,
      DIGEST_MINUTES,
      CALL_RING_SECONDS,
      RESOLUTION_TIMEOUT_SECONDS,
      WORK_LEASE_SECONDS,
      PRE_SPAM,
      ANSWER_AFTER_MS,
      WALK_WAIT_SECONDS,
    },
    figures,
    targets,
  };
  if (TRIAL) {
    const file = path.join(ROOT, 'test-artifacts', 'bench-surge.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`bench: a trial of ${TENANTS} tenants; wrote ${path.relative(ROOT, file)} (bench/results and the README are left alone)`);
  } else {
    await writeResults('surge', result);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  stopping = true;
  await runCleanup();
}
