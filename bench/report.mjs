#!/usr/bin/env node
// bench/report.mjs: the README's benchmark tables, generated from the latest results in bench/results/*.json,
// so that they cannot drift from what was measured. Each table sits between marker comments in README.md
// (`<!-- bench:counter:start -->` … `<!-- bench:counter:end -->`, the same for deadlines); the prose around
// them is left alone.
//
//   node bench/report.mjs           rewrites the README's tables (also run at the end of every benchmark)
//   node bench/report.mjs --check   exits 1 if the README's tables differ from what the results give
//                                   (run by scripts/test.sh, so a hand-edited table or a result committed
//                                   without its table fails CI)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = path.join(ROOT, 'README.md');
export const BENCHMARKS = ['counter', 'deadlines', 'embedded', 'storage', 'surge', 'intake'];
// A 1-minute load average at the start of a run at or above this says the run shared the machine.
const QUIET_LOAD = 1.0;

const int = (n) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const fixed = (n, d) => n.toFixed(d);
const mib = (bytes) => `${int(bytes / 2 ** 20)} MB`;
const gib = (bytes) => `${int(bytes / 2 ** 30)} GiB`;
const day = (iso) => iso.slice(0, 10);

/** "p50 x, p99 y, max z" where a figure beyond the wait (null in the results) is "> wait". */
function spread(p, unit, wait, show) {
  const v = (x) => (x === null ? `> ${show(wait)} ${unit}` : `${show(x)} ${unit}`);
  return `p50 ${v(p.p50)}, p99 ${v(p.p99)}, max ${v(p.max)}`;
}
const seen = (p, what, wait, verb = 'seen') => `${int(p.seen)} of ${int(p.of)} ${what} ${verb} within ${wait} s${p.missed ? `, **${int(p.missed)} missed**` : ''}`;

/** Wraps a paragraph at 110 columns so the README's source stays readable (markdown joins the lines). */
function wrap(text, width = 110) {
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

function context(r) {
  const m = r.machine;
  const commit = `commit ${r.commit.sha.slice(0, 10)}${r.commit.dirty ? ` with uncommitted changes to ${r.commit.dirtyPaths.map((p) => `\`${p}\``).join(', ')}` : ''}`;
  return wrap(
    `Latest figures (${day(r.date)}, ${commit}; ${m.cpus} × ${m.model}, ${gib(m.memoryBytes)}, ${m.os}, Node ${m.node}, ${m.postgres}` +
      `${m.kafka ? `, ${m.kafka}` : ''}; everything shares the ${m.cpus} cores; 1-minute load average ${fixed(r.load.start[0], 2)} at the start, ` +
      `${fixed(r.load.end[0], 2)} at the end, which includes the benchmark's own processes):`,
  );
}

function sharedNote(r) {
  if (r.load.start[0] < QUIET_LOAD) return [];
  return [
    '',
    wrap(
      `**This run shared the machine**: the 1-minute load average was ${fixed(r.load.start[0], 2)} when it began (${fixed(QUIET_LOAD, 1)} ` +
        `or more means other work was running on the ${r.machine.cpus} cores), so these figures are likely worse than a quiet machine of ` +
        'this kind gives.',
    ),
  ];
}

const params = (r) => wrap(`Parameters: ${Object.entries(r.parameters).map(([k, v]) => `\`${k}=${v}\``).join(' ')}; all figures in \`bench/results/${r.benchmark}.json\`.`);

function counterBlock(r) {
  const f = r.figures;
  const t = f.throughput;
  const b = f.backlog;
  const trip = f.tripLatencyMs;
  const rate = int(f.steady.verdictsPerSecond);
  const cpu = (c, who) => `${who} ${fixed(c.counter, 0)} s, PostgreSQL ${fixed(c.postgres, 0)} s, the Kafka nodes ${fixed(c.kafka, 0)} s`;
  const p = f.profile;
  return [
    context(r),
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| backlog, produced before either consumer starts | ${int(b.messages)} verdicts (${int(r.parameters.TENANTS)} tenants, ${b.partitions} partitions; ${int(b.repeats)} producer repeats) | ≥ 2,000,000 |`,
    `| bare kafkajs consumer (parses only), from offset 0 | ${int(t.barePerSecond)} messages/s (${fixed(t.bareSeconds, 1)} s) | — |`,
    `| counter → PostgreSQL, from offset 0, same backlog | **${int(t.counterPerSecond)} verdicts/s** (${fixed(t.counterSeconds, 1)} s) | ≥ 30,000/s |`,
    `| counter / bare | **${fixed(t.ratio, 2)}** | ≥ 0.7 |`,
    `| distinct verdicts counted, backlog and steady load | ${int(f.verdicts.counted)} of ${int(f.verdicts.distinctProduced)}${f.verdicts.lost ? `, **${int(f.verdicts.lost)} lost**` : ''} | all |`,
    `| counter peak RSS | **${mib(f.peakRssBytes)}** | ≤ 300 MB |`,
    `| trip latency at ${rate} verdicts/s | **${spread(trip, 'ms', trip.waitMs, int)}** (${seen(trip, 'trips', int(trip.waitMs / 1000))}) | p99 ≤ 1 s |`,
    '',
    wrap(
      `Where the two cores went (CPU seconds, from /proc): while the bare consumer read the backlog — ${cpu(f.cpuSeconds.bare, 'the consumer')}; ` +
        `while the counter counted it — ${cpu(f.cpuSeconds.counter, 'the counter')}: per verdict, ${fixed((f.cpuSeconds.bare.counter * 1e6) / t.messages, 1)} µs ` +
        `in the bare consumer, ${fixed((f.cpuSeconds.counter.counter * 1e6) / t.messages, 1)} µs in the counter and ${fixed((f.cpuSeconds.counter.postgres * 1e6) / t.messages, 1)} µs in PostgreSQL.`,
    ),
    ...(p
      ? [
          '',
          wrap(
            `CPU profile of a second counter process reading the same backlog (\`node --cpu-prof\`, ${fixed(p.wallSeconds, 0)} s, ` +
              `${fixed(p.busySeconds, 1)} s on CPU, ${int(p.verdictsPerSecond)} verdicts/s while profiled), self time by module: ` +
              `${p.modules.slice(0, 8).map((m) => `${m.name} ${fixed(m.percent, 0)} %`).join(', ')}. Top functions: ` +
              `${p.functions.slice(0, 8).map((x) => `\`${x.name}\`${x.where ? ` (${x.where})` : ''} ${fixed(x.percent, 1)} %`).join(', ')}.`,
          ),
        ]
      : []),
    ...sharedNote(r),
    '',
    params(r),
  ].join('\n');
}

function deadlinesBlock(r) {
  const f = r.figures;
  const c = f.committedLatenessSeconds;
  const s = f.sweepLatenessSeconds;
  const wait = r.parameters.MAX_WAIT_SECONDS;
  const eventsOk = f.tenantsWithOneSuspensionEvent === f.tickets;
  const suspended = [
    `${int(f.suspended)} / ${int(f.tickets)}`,
    f.suspendedTwice ? `**${int(f.suspendedTwice)} twice**` : 'none twice',
    f.suspendedBeforeDeadline ? `**${int(f.suspendedBeforeDeadline)} early**` : 'none early',
    eventsOk ? 'one `outbound.suspended` per tenant' : `**${int(f.tickets - f.tenantsWithOneSuspensionEvent)} tenants without exactly one \`outbound.suspended\`**`,
  ].join('; ');
  const sec = (x) => fixed(x, 2);
  return [
    context(r),
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| suspended | ${suspended} | all, once |`,
    `| deadline → suspension committed | **${spread(c, 's', wait, sec)}** (${seen(c, 'tickets', wait)}) | ≤ 2 s |`,
    `| deadline → the sweep that suspended it | ${spread(s, 's', wait, sec)} (${seen(s, 'tickets', wait, 'swept')}) | — |`,
    ...sharedNote(r),
    '',
    params(r),
  ].join('\n');
}

// bench/embedded: `npm start` on PGlite — time to ready and resident memory (medians of the runs).
function embeddedBlock(r) {
  const f = r.figures;
  const s = (ms) => `${fixed(ms / 1000, 1)} s`;
  const range = (x) => (r.parameters.RUNS > 1 ? ` (${fixed(x.min / 1000, 1)}–${s(x.max)})` : '');
  const phases = (steps) => steps.map((p, i) => `${p.phase} ${int(p.ms - (steps[i - 1]?.ms ?? 0))} ms`).join(', ');
  return [
    context(r),
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| first start, fresh \`DATA_DIR\` → ready | **${s(f.first.readyMs.median)}**${range(f.first.readyMs)} | ≤ 3 s |`,
    `| restart on that directory → ready | **${s(f.restart.readyMs.median)}**${range(f.restart.readyMs)} | ≤ 3 s |`,
    `| RSS idle, ${r.parameters.IDLE_SECONDS} s after ready (first start / restart) | **${mib(f.first.idleRssBytes.median)} / ${mib(f.restart.idleRssBytes.median)}** | ≤ 300 MB |`,
    `| peak RSS, start included (first start / restart) | ${mib(f.first.peakRssBytes.median)} / ${mib(f.restart.peakRssBytes.median)} | — |`,
    `| peak RSS through \`pnpm demo\` (${fixed(f.demo.seconds, 0)} s, start included) | **${mib(f.demo.peakRssBytes)}** | ≤ 400 MB |`,
    ...(f.postgres ? [`| the same process on PostgreSQL: ready, RSS idle | ${s(f.postgres.readyMs)}, ${mib(f.postgres.idleRssBytes)} | — |`] : []),
    '',
    wrap(
      `Where a start goes (one process each): first start — ${phases(f.phases.first)}; restart — ${phases(f.phases.restart)}; ` +
        `the rest of the time to ready starts the roles and the HTTP server. PGlite's own initdb, which a first start ran before, ` +
        `took ${int(f.phases.initdb.at(-1).ms - f.phases.initdb.at(-2).ms)} ms and left the process at ${mib(f.phases.initdb.at(-1).rssBytes)}.`,
    ),
    ...sharedNote(r),
    '',
    params(r),
  ].join('\n');
}

// bench/storage: what counting keeps on disk per verdict, per tenant-minute and per dedupe key; the drops' cost.
function storageBlock(r) {
  const f = r.figures;
  const a = f.aggregates;
  const d = f.dedupe;
  const p = f.pruning;
  const mb = (bytes) => `${fixed(bytes / 2 ** 20, 1)} MB`;
  const gb = (bytes) => `${fixed(bytes / 2 ** 30, 1)} GB`;
  const ms = (x) => (x === null ? '—' : `${fixed(x, 0)} ms`);
  const rate = int(r.parameters.RATE);
  return [
    context(r),
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| aggregates (per-minute counts and top senders, tables and indexes) per million verdicts, at ${rate} verdicts/s | **${mb(a.bytesPerMillionVerdicts)}** (${mb(a.bytes)} for ${int(f.verdicts)}) | ≤ 5 MB |`,
    `| … per tenant-minute | ${int(a.bytesPerTenantMinute)} B (${int(a.tenantMinutes)} tenant-minutes; at most ${a.mostSenderEntriesInOneMinute} sender entries in one) | — |`,
    `| dedupe keys at steady state (window ${d.windowSeconds} s) | ${int(d.keys)} keys, ${mb(d.bytes)}: **${fixed(d.bytesPerKey, 0)} B per key** | — |`,
    `| … at the default one-hour window | ${gb(d.atDefaultWindow.per1000PerSecond.min)}–${gb(d.atDefaultWindow.per1000PerSecond.max)} at 1,000 verdicts/s, ${gb(d.atDefaultWindow.per30000PerSecond.min)}–${gb(d.atDefaultWindow.per30000PerSecond.max)} at 30,000/s | — |`,
    `| pruning: dedupe partitions dropped whole | ${p.partitionsDropped}, p50 ${int(p.keysPerDrop.p50 ?? 0)} keys each; DROP p50 ${ms(p.dropMs.p50)}, max ${ms(p.dropMs.max)} | — |`,
    `| counting through \`countVerdicts\`, one connection | ${int(f.counting.verdictsPerSecond)} verdicts/s (batch p50 ${ms(f.counting.batchMs.p50)}, p99 ${ms(f.counting.batchMs.p99)}) | — |`,
    ...sharedNote(r),
    '',
    params(r),
  ].join('\n');
}

// bench/surge: a thousand tenants trip within 30 s — ticket commits, call pacing, the shared TAM's digests, nothing lost or doubled.
function surgeBlock(r) {
  const f = r.figures;
  const p = r.parameters;
  const n = int(p.TENANTS);
  const sec = (x, d = 2) => (x === null ? '—' : `${fixed(x, d)} s`);
  const c = f.ticketCommitSeconds;
  const fc = f.firstContactCallSeconds;
  const t = f.tam;
  const rate = p.TWILIO_CALLS_PER_SECOND;
  const period = `${p.DIGEST_MINUTES} min`;
  const kinds = Object.entries(t.digestEntryKinds).map(([k, x]) => `${int(x)} ${k.replace('_', ' ')}`).join(', ') || 'none';
  const once = (x) => `${int(x.seen)} of ${int(x.expected)}${x.duplicates ? `, **${int(x.duplicates)} doubled**` : ''}${x.missing ? `, **${int(x.missing)} missing**` : ''}`;
  const failed = f.attempts.failed + f.attempts.unknown;
  const order = f.callOrder?.lastFirstContactCallSeconds != null && f.callOrder.firstSecondContactCallSeconds != null ? f.callOrder : null;
  const attempts = (x) => `${int(x)} attempt${x === 1 ? '' : 's'}`;
  return [
    context(r),
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| ticket committed: crossing verdict sent → its POST answered (${n} tenants within ${p.SURGE_SECONDS} s, ${int(f.crossingPosts)} POSTs) | **p50 ${sec(c.p50)}, p95 ${sec(c.p95)}, p99 ${sec(c.p99)}, max ${sec(c.max)}** (${int(c.seen)} of ${int(c.of)} committed by their own POST${c.missed ? `, **${int(c.missed)} not**` : ''}) | p99 ≤ 5 s |`,
    `| Calls.json creates per second (${int(f.calls.creates)} calls) | **at most ${f.calls.maxInCalendarSecond} in a calendar second, ${f.calls.maxInSlidingSecond} in any 1-s window**${f.calls.contactCallsMeanPerSecond ? `; contact calls ${fixed(f.calls.contactCallsMeanPerSecond, 1)}/s from the first to the last` : ''} | ≤ ${rate} (\`TWILIO_CALLS_PER_SECOND\`) |`,
    `| crossing verdict sent → first call to the tenant's first contact | p50 ${sec(fc.p50, 1)}, p99 ${sec(fc.p99, 1)}, max ${sec(fc.max, 1)}${fc.beyondBound ? `; **${int(fc.beyondBound)} beyond ${fixed(fc.boundSeconds, 0)} s**` : ''}${order ? `; the last first-contact call ${sec(order.lastFirstContactCallSeconds, 0)} after the surge began, the first second-contact call ${sec(order.firstSecondContactCallSeconds, 0)}` : ''} | all ≤ ${fixed(fc.boundSeconds, 0)} s (N / rate + 60 s) |`,
    `| the shared TAM's email | **${int(t.digestEmails)} digests, at least ${sec(t.smallestDigestGapSeconds, 1)} apart**; ${int(t.digestEntries)} entries (${kinds})${t.doubledDigestEntries ? `, **${int(t.doubledDigestEntries)} doubled**` : ''}; **${int(t.perTicketEmails)} per-ticket emails** | ≤ 1 digest per ${period}; no per-ticket email |`,
    `| the shared TAM's calls | ${int(t.calls)} calls${t.calls > 1 ? `, at least ${sec(t.smallestCallGapSeconds, 1)} apart` : ''}; ${attempts(f.attempts.rateLimited)} \`rate-limited\` | ≤ 1 per ${period}, ≤ ${p.CALLS_PER_NUMBER_PER_HOUR} per hour |`,
    `| tickets whose TAM briefing is in a digest | ${int(t.ticketsBriefedInDigest)} of ${int(f.tickets.opened)}${t.ticketsNotInTamMail ? `; **${int(t.ticketsNotInTamMail)} in no TAM mail**` : ''} | all |`,
    `| each tenant contact: one call, one follow-up, one final email | calls ${once(f.contacts.calls)}; follow-ups ${once(f.contacts.followups)}; final emails ${once(f.contacts.finals)}${f.contacts.strayMails ? `; **${int(f.contacts.strayMails)} stray mails**` : ''}; ${failed ? `**${attempts(failed)} failed or unknown**` : 'no attempt failed or unknown'} | all, once |`,
    `| call queue (\`/metrics\`) | ${f.callQueue.exported ? `longest ${int(f.callQueue.maxLength)} calls, oldest ${sec(f.callQueue.maxOldestSeconds, 0)}` : 'not exported'}; \`/readyz\` not ready in ${int(f.readyz.notReady)} of ${int(f.readyz.samples)} samples | — |`,
    `| service peak RSS (one process, all roles) | **${mib(f.peakRssBytes)}** | < 400 MB |`,
    `| every walk finished (\`awaiting_response\`, all mail in) | ${f.walksDone ? `${sec(f.walksDoneSeconds, 0)} after the surge began` : `**not within ${int(p.WALK_WAIT_SECONDS)} s**`} (whole run ${sec(f.totalSeconds, 0)}) | — |`,
    ...sharedNote(r),
    '',
    params(r),
  ].join('\n');
}

// bench/intake: complaint reports over SMTP — stored (250) per second, processed to their outcome per second,
// the outcomes against the mix sent, the service's memory and the table's bytes.
function intakeBlock(r) {
  const f = r.figures;
  const p = r.parameters;
  const a = f.acceptance;
  const pr = f.processing;
  const o = f.outcomes;
  const ms = (x) => (x === null ? '—' : `${x < 10 ? fixed(x, 1) : int(x)} ms`);
  const sec = (x, d = 1) => (x === null ? '—' : `${fixed(x, d)} s`);
  const rate = (x) => (x === null ? '—' : `${int(x)}/s`);
  const failed = f.failed ? `, **${int(f.failed)} failed** (${Object.entries(f.failures).map(([k, n]) => `${int(n)} × ${k}`).join(', ')})` : ', none failed';
  const outcome = (k) => `${int(o.actual[k] ?? 0)}${o.actual[k] === o.expected[k] ? '' : ` **(sent ${int(o.expected[k])})**`}`;
  const by = o.actualByOutcomeAndAttribution;
  const s = f.storage;
  const mb = (bytes) => `${fixed(bytes / 2 ** 20, 1)} MB`;
  return [
    context(r),
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| reports answered 250 (stored) over SMTP, ${int(p.CONNECTIONS)} sessions at once, first command → last 250 | **${int(a.perSecond)} reports/s** (${int(f.accepted)} of ${int(f.sent)} in ${sec(a.seconds)}${failed}) | every report 250 |`,
    `| SMTP transaction, RSET sent → 250 after the data | **p50 ${ms(a.transactionMs.p50)}, p99 ${ms(a.transactionMs.p99)}, max ${ms(a.transactionMs.max)}**; of it the store (end of data → 250): p50 ${ms(a.storeMs.p50)}, p99 ${ms(a.storeMs.p99)}, max ${ms(a.storeMs.max)} | — |`,
    `| reports processed to their outcome, first command → last report done | ${pr.allDone ? `**${int(pr.perSecond)} reports/s** (${sec(pr.seconds)}); ${rate(pr.whileSendingPerSecond)} while reports came in, ${rate(pr.afterSendingPerSecond)} after` : `**not all within ${int(p.WAIT_SECONDS)} s of the last 250** (${int(pr.notDone)} left)`} | — |`,
    `| backlog (stored, not processed) at the last 250 | **${int(pr.backlogAtSendEnd)} reports**${pr.drainSeconds !== null ? `, drained ${sec(pr.drainSeconds)} later` : ''}; stored → processed p50 ${sec(pr.waitSeconds.p50)}, p99 ${sec(pr.waitSeconds.p99)}, max ${sec(pr.waitSeconds.max)} | — |`,
    `| outcomes (sent: ${int(o.expected.counted)} to count, ${int(o.expected.duplicate)} resends, ${int(o.expected.unattributed)} unattributable) | counted ${outcome('counted')} (${int(by['counted/stamp'] ?? 0)} by stamp, ${int(by['counted/ip'] ?? 0)} by IP), duplicate ${outcome('duplicate')}, unattributed ${outcome('unattributed')}, dead letter ${outcome('dead_letter')}; ${int(f.complaintTicketsOpened)} complaint tickets opened | as sent |`,
    `| service peak RSS (one process, api and intake) | **${mib(f.peakRssBytes)}** (${mib(f.rssAtReadyBytes)} when ready, ${mib(f.rssAtEndBytes)} at the end) | — |`,
    `| \`complaint_reports\` on disk | ${mb(s.totalBytes)} (heap ${mb(s.heapBytes)}, TOAST ${mb(s.toastBytes)}, indexes ${mb(s.indexBytes)}): **${int(s.bytesPerReport)} B per report**, of which the raw report ${int(s.rawBytesPerReport)} B | — |`,
    `| CPU seconds, first command → last report done (${sec(f.cpuWallSeconds, 0)}) | service ${fixed(f.cpuSeconds.service, 0)} s, PostgreSQL ${fixed(f.cpuSeconds.postgres, 0)} s, the bench's SMTP client ${fixed(f.cpuSeconds.bench, 0)} s | — |`,
    ...sharedNote(r),
    '',
    params(r),
  ].join('\n');
}

const BLOCKS = { counter: counterBlock, deadlines: deadlinesBlock, embedded: embeddedBlock, storage: storageBlock, surge: surgeBlock, intake: intakeBlock };

/** Each benchmark's latest results; a missing file is an error unless `allowMissing` (then it is left out). */
export function readResults({ allowMissing = false } = {}) {
  const results = {};
  for (const name of BENCHMARKS) {
    const file = path.join(ROOT, 'bench/results', `${name}.json`);
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (allowMissing && err.code === 'ENOENT') continue;
      throw new Error(`bench/report: cannot read ${path.relative(ROOT, file)} (${err.code ?? err.message}); run pnpm bench:${name}`);
    }
    results[name] = JSON.parse(text);
  }
  return results;
}

/** The README with each benchmark's block replaced by the one its results give (blocks without results are kept). */
export function generate(readme, results) {
  let out = readme;
  for (const name of BENCHMARKS.filter((n) => results[n])) {
    const start = `<!-- bench:${name}:start -->`;
    const end = `<!-- bench:${name}:end -->`;
    const a = out.indexOf(start);
    const b = out.indexOf(end);
    if (a < 0 || b < a) throw new Error(`bench/report: README.md has no ${start} … ${end} markers`);
    const block = `${start}\n<!-- generated by bench/report.mjs from bench/results/${name}.json: run the benchmark or pnpm bench:report, do not edit -->\n${BLOCKS[name](results[name])}\n`;
    out = out.slice(0, a) + block + out.slice(b);
  }
  return out;
}

/** Rewrites README.md from the results; true if anything changed. */
export function updateReadme() {
  const readme = readFileSync(README, 'utf8');
  const next = generate(readme, readResults({ allowMissing: true }));
  if (next === readme) return false;
  writeFileSync(README, next);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--check')) {
      const readme = readFileSync(README, 'utf8');
      const expected = generate(readme, readResults());
      if (expected !== readme) {
        const have = readme.split('\n');
        const want = expected.split('\n');
        let i = 0;
        while (have[i] === want[i]) i++;
        console.error(
          [
            "bench/report: the README's benchmark tables differ from bench/results/*.json; run `pnpm bench:report` (or the benchmark) and commit both.",
            `First difference, README.md line ${i + 1}:`,
            `  README:  ${have[i] ?? '(end of file)'}`,
            `  results: ${want[i] ?? '(end of file)'}`,
          ].join('\n'),
        );
        process.exit(1);
      }
      console.log('bench/report: README benchmark tables match bench/results/*.json');
    } else {
      console.log(updateReadme() ? 'bench/report: README benchmark tables regenerated' : 'bench/report: README benchmark tables already up to date');
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
