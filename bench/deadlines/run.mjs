// bench/deadlines: are suspensions committed on time at scale? Opens TICKETS tickets (default 10,000)
// whose resolution deadlines are spread over SPREAD_SECONDS, runs ENFORCERS enforcer processes (default
// 3) against real PostgreSQL, and measures each suspension's lateness. Also checks that no ticket was
// suspended twice and that every tenant got exactly one outbound.suspended event.
//
//   pnpm bench:deadlines     (TICKETS=10000 SPREAD_SECONDS=120 ENFORCERS=3)
//
// The scenario spreads deadlines over an hour; compressing them into SPREAD_SECONDS is the
// harder case (30× the rate at the default), and keeps the run short.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPostgresDatabase, testDatabaseUrl } from '../../packages/db/dist/testing.js';
import { connect, migrateToLatest } from '../../packages/db/dist/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const env = process.env;
const TICKETS = Number(env.TICKETS ?? 10_000);
const SPREAD = Number(env.SPREAD_SECONDS ?? 120);
const ENFORCERS = Number(env.ENFORCERS ?? 3);
const LEAD = 15; // seconds before the first deadline, for the enforcers to start

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN; };

const database = await createPostgresDatabase(testDatabaseUrl(env));
const handle = await connect({ databaseUrl: database.url });
await migrateToLatest(handle.db);
await handle.close();
const db = new pg.Pool({ connectionString: database.url, max: 3 });
const start = Date.now() + LEAD * 1000;
await db.query(`insert into tenants (id, name) select 'bench-' || g, 'Bench ' || g from generate_series(1, $1) g`, [TICKETS]);
await db.query(
  `insert into tickets (number, tenant_id, state, severity, rule, evidence, contacts, no_contacts, deadline_at, last_trip_at, opened_at, updated_at, event_seq)
   select 'ABU-' || lpad(g::text, 6, '0'), 'bench-' || g, 'awaiting_response', 'normal', 'spam',
          '{"rule":"spam","windowSeconds":600,"windowStart":"2026-01-01T00:00:00Z","windowEnd":"2026-01-01T00:10:00Z","counts":{"spam":60,"phish":0,"virus":0,"clean":0},"total":60,"ratio":1,"thresholds":{},"topSenders":[]}',
          '[]', true, to_timestamp($2 / 1000.0 + random() * $3), now(), now(), now(), 0
   from generate_series(1, $1) g`,
  [TICKETS, start, SPREAD],
);
await db.query(`select setval('ticket_number_seq', $1)`, [TICKETS]);
const deadlines = new Map((await db.query('select id, extract(epoch from deadline_at) * 1000 as d from tickets')).rows.map((r) => [r.id, Number(r.d)]));

const children = [];
for (let i = 0; i < ENFORCERS; i++) {
  const port = await freePort();
  children.push(spawn(process.execPath, [path.join(ROOT, 'services/main/dist/main.js')], { env: { PATH: env.PATH ?? '', ROLES: 'enforcer', DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] }));
}

// Observed commit time: the first poll (every 25 ms) that sees the ticket suspended.
const seen = new Map();
const until = start + SPREAD * 1000 + 30_000;
while (seen.size < TICKETS && Date.now() < until) {
  const rows = (await db.query(`select id from tickets where state = 'suspended'`)).rows;
  const now = Date.now();
  for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, now);
  await sleep(25);
}
const late = [...seen].map(([id, at]) => (at - deadlines.get(id)) / 1000);
const sweep = (await db.query(`select t.id, extract(epoch from e.at) * 1000 as at from ticket_events e join tickets t on t.id = e.ticket_id where e.type = 'deadline_passed'`)).rows.map((r) => (Number(r.at) - deadlines.get(r.id)) / 1000);
const twice = Number((await db.query(`select count(*)::int as n from (select ticket_id from ticket_events where type = 'deadline_passed' group by ticket_id having count(*) > 1) x`)).rows[0].n);
const events = (await db.query(`select tenant_id, count(*)::int as n from outbox where type = 'outbound.suspended' group by tenant_id`)).rows;
const early = sweep.filter((s) => s < 0).length;

const cpu = os.cpus();
console.log([
  `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, PostgreSQL at ${new URL(testDatabaseUrl(env)).host}`,
  `${TICKETS} tickets, deadlines spread over ${SPREAD} s, ${ENFORCERS} enforcer processes`,
  `suspended: ${seen.size}/${TICKETS}; suspended twice: ${twice}; tenants with ≠ 1 suspension event: ${TICKETS - events.filter((e) => e.n === 1).length}; suspended before the deadline: ${early}`,
  `lateness, deadline → suspension committed (seen by a 25 ms poll): p50 ${pct(late, 50).toFixed(3)} s, p99 ${pct(late, 99).toFixed(3)} s, max ${Math.max(...late).toFixed(3)} s`,
  `lateness, deadline → sweep that suspended it: p50 ${pct(sweep, 50).toFixed(3)} s, p99 ${pct(sweep, 99).toFixed(3)} s, max ${Math.max(...sweep).toFixed(3)} s`,
].join('\n'));

for (const c of children) c.kill('SIGTERM');
await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
await db.end();
await database.drop();
