// Kill at any instant (issue #11): one role process at a time is SIGKILLed at a random instant — seeded,
// so a failure can be replayed with CRASH_SEED — while work is really in flight: emails in the middle of
// an SMTP transaction (the sink holds each one), calls being created at Twilio, enforcement events being
// delivered to a slow webhook, verdicts being posted. Two notifiers and two enforcers run, so a survivor
// must take over what the dead one had claimed. Then the documented semantics are checked exactly.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedPost, startSmtpSink, startTwilioStandin, verdictBurst, waitUntil } from '@abuse-desk/testkit';
import pg from 'pg';
import t from 'tap';
import { client, prepareService } from './harness.js';

const SEED = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = Number(process.env['CRASH_KILLS'] ?? 32);
const TENANTS = 8;
const SECRET = 'campaign-webhook-secret-0123456789';
const ROLE_SETS = [['api', 'counter'], ['notifier'], ['notifier'], ['enforcer'], ['enforcer']];

/** mulberry32: a small seeded generator, so the same seed replays the same kills. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Delivery {
  eventId: string;
  tenantId: string;
  sequence: number;
  type: string;
}

/**
 * A slow enforcement webhook that checks signatures and records, in one log, every delivery attempt as it
 * arrives and every acknowledgement as it completes (an attempt whose sender died before the answer has none).
 */
async function startReceiver() {
  const attempts: Delivery[] = [];
  const log: { kind: 'arrived' | 'acknowledged'; tenantId: string; sequence: number }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      if (req.headers['x-abuse-desk-signature'] !== expected) {
        res.writeHead(401).end();
        return;
      }
      const e = JSON.parse(body) as Delivery;
      attempts.push({ eventId: e.eventId, tenantId: e.tenantId, sequence: e.sequence, type: e.type });
      log.push({ kind: 'arrived', tenantId: e.tenantId, sequence: e.sequence });
      res.on('finish', () => log.push({ kind: 'acknowledged', tenantId: e.tenantId, sequence: e.sequence }));
      // Slow, so that an enforcer is killed while a claimed delivery is in flight.
      setTimeout(() => res.writeHead(200).end(), 150);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, attempts, log, close: () => new Promise<void>((r) => server.close(() => r())) };
}

t.test(`random SIGKILLs of single role processes (seed ${SEED}, ${KILLS} kills): no call twice, every email at least once with one Message-ID, every event in order, every verdict once, nothing left claimed`, async (t) => {
  t.comment(`replay with CRASH_SEED=${SEED}`);
  const random = prng(SEED);
  const sink = await startSmtpSink({ acceptDelayMs: 150 });
  t.teardown(() => sink.close());
  const standin = await startTwilioStandin({ createDelayMs: 300 });
  t.teardown(() => standin.close());
  const receiver = await startReceiver();
  t.teardown(() => receiver.close());
  const svc = await prepareService({
    name: `campaign-${SEED}`,
    arrangement: { engine: 'postgres', processes: 'four' },
    roleSets: ROLE_SETS,
    env: {
      SMTP_URL: sink.url,
      TWILIO_ACCOUNT_SID: standin.accountSid,
      TWILIO_AUTH_TOKEN: standin.authToken,
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: standin.baseUrl,
      ENFORCEMENT_WEBHOOK_URL: receiver.url,
      ENFORCEMENT_WEBHOOK_SECRET: SECRET,
      RESOLUTION_TIMEOUT_SECONDS: '3',
      CALL_RESULT_TIMEOUT_SECONDS: '20',
      WORK_LEASE_SECONDS: '3',
      LOG_LEVEL: 'warn',
    },
  });
  t.teardown(() => svc.stop());
  await svc.start();
  const api = client(svc.baseUrl);
  /** Retries while the api process is down or restarting: what a real client (or producer) does. */
  const call = async (method: string, path: string, body?: unknown) => {
    for (let i = 0; ; i++) {
      try {
        const r = await api(method, path, body);
        if (r.status < 500) return r;
      } catch {
        // connection refused or reset: the api process was killed
      }
      if (i > 200) throw new Error(`${method} ${path} never succeeded`);
      await sleep(100);
    }
  };

  const tenants: string[] = [];
  const addTenant = async () => {
    const i = tenants.length;
    const id = `camp${i}`;
    await call('PUT', `/v1/tenants/${id}`, { name: `Campaign ${i}` });
    await call('PUT', `/v1/tenants/${id}/contacts`, [
      { name: `Ann ${i}`, phone: `+1415555${String(1000 + i * 2)}`, email: `ann${i}@tenant${i}.example`, role: 'contact' },
      { name: `Ben ${i}`, phone: `+1415555${String(1001 + i * 2)}`, email: `ben${i}@tenant${i}.example`, role: 'contact' },
      { name: `Tam ${i}`, email: `tam${i}@platform.example`, role: 'tam' },
    ]);
    tenants.push(id);
  };
  for (let i = 0; i < TENANTS; i++) await addTenant();

  // The workload, concurrent with the kills: verdicts posted (and re-posted after a failure), calls that
  // end unanswered, suspended tickets resolved by an agent. It runs until the kills are over and all is done.
  let killing = true;
  const posted = new Set<string>();
  const answered = new Set<string>();
  const resolved = new Set<string>();
  /** Every call placed at least `afterMs` ago rings out unanswered (its status callback, retried until the api takes it). */
  const answerCalls = async (afterMs = 400) => {
    for (const c of standin.calls.values()) {
      if (answered.has(c.sid) || Date.now() - c.createdAt.getTime() < afterMs) continue;
      const attemptId = new URL(String(c.params['Url'])).searchParams.get('a')!;
      const r = await signedPost(`${svc.baseUrl}/webhooks/twilio/status?a=${attemptId}`, { CallSid: c.sid, CallStatus: 'no-answer', SequenceNumber: '3' }, standin.authToken).catch(() => null);
      if (r && r.status < 500) answered.add(c.sid);
    }
  };
  /** An agent resolves every suspended ticket. */
  const resolveSuspended = async () => {
    for (const tk of (await call('GET', '/v1/tickets?state=suspended&limit=200')).body.items as { id: string }[]) {
      if (resolved.has(tk.id)) continue;
      const r = await call('POST', `/v1/tickets/${tk.id}/resolve`, { note: 'fixed during the campaign' });
      if (r.status === 200 || r.status === 409) resolved.add(tk.id);
    }
  };
  const workload = (async () => {
    let wave = 0;
    while (killing || wave < 4) {
      wave += 1;
      // A tenant that trips for the first time every other wave keeps walks, emails and events in flight
      // throughout the kills (a resolved tenant's next trip waits for the next minute: probation restarts windows).
      if (killing && wave % 2 === 0 && tenants.length < 40) await addTenant();
      for (const id of tenants) {
        const batch = verdictBurst(id, 60, (j) => ({ verdict: j % 4 === 0 ? 'clean' : 'spam', sender: `s${j % 3}@${id}.example` }));
        await call('POST', '/v1/verdicts', batch);
        for (const v of batch) posted.add(`${v.tenantId} ${v.messageId}`);
      }
      await answerCalls();
      await resolveSuspended();
      await sleep(300);
    }
  })();

  // The kills: one role process at a random instant, restarted after a random pause.
  const inFlight = { emails: 0, calls: 0, deliveries: 0 };
  const pool = new pg.Pool({ connectionString: svc.databaseUrl!, max: 2 });
  t.teardown(() => pool.end());
  // The workload's failure is reported when it is awaited; it must not go unhandled meanwhile.
  workload.catch(() => undefined);
  /** Restarts a process; a port taken by someone else in the gap is retried, not fatal. */
  const restart = async (victim: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await svc.startProcess(victim);
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(500);
      }
    }
  };
  const timeline: string[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      await sleep(200 + random() * 1300);
      const victim = Math.floor(random() * ROLE_SETS.length);
      const busy = (await pool.query(`select
          (select count(*)::int from contact_attempts where status = 'dispatching' and channel = 'email') as emails,
          (select count(*)::int from contact_attempts where status = 'dispatching' and channel = 'voice') as calls,
          (select count(*)::int from outbox_deliveries where status = 'pending' and locked_until > now()) as deliveries`)).rows[0] as typeof inFlight;
      for (const key of Object.keys(inFlight) as (keyof typeof inFlight)[]) if (busy[key] > 0) inFlight[key] += 1;
      timeline.push(`${k + 1}:${ROLE_SETS[victim]!.join('+')}(e${busy.emails}c${busy.calls}d${busy.deliveries})`);
      await svc.killProcess(victim);
      await sleep(random() * 500);
      await restart(victim);
    }
  } finally {
    killing = false;
  }
  t.comment(`kills (victim, claimed emails/calls/deliveries at the kill): ${timeline.join(' ')}`);
  t.comment(`kills that landed with work claimed in flight: ${JSON.stringify(inFlight)}`);
  await workload;

  // Quiet: every ticket resolved, every email sent, every event delivered, no call command pending.
  await waitUntil(
    async () => {
      const r = (await pool.query(`select
          (select count(*)::int from tickets where closed_at is null) as open,
          (select count(*)::int from contact_attempts where status not in ('done', 'canceled', 'failed')) as attempts,
          (select count(*)::int from outbox_deliveries where status <> 'delivered') as deliveries,
          (select count(*)::int from call_commands where status = 'pending') as commands`)).rows[0];
      // Tickets opened by the last verdict waves still walk: keep answering and resolving.
      await answerCalls(0);
      await resolveSuspended();
      return r.open === 0 && r.attempts === 0 && r.deliveries === 0 && r.commands === 0;
    },
    { timeoutMs: 120_000, intervalMs: 500, message: 'the service did not settle after the kills' },
  );

  // No call placed twice: one create per attempt, one call per number and ticket step.
  const creates = new Map<string, number>();
  for (const c of standin.calls.values()) {
    const a = new URL(String(c.params['Url'])).searchParams.get('a')!;
    creates.set(a, (creates.get(a) ?? 0) + 1);
  }
  t.same([...creates.values()].filter((n) => n > 1), [], 'no call attempt was placed twice');
  const redials = (await pool.query(`select ticket_id, contact_id, count(*)::int as n from contact_attempts where kind = 'call' group by ticket_id, contact_id having count(*) > 1`)).rows;
  t.same(redials, [], 'no contact was called twice for one ticket (no redial as a new attempt)');
  t.ok(creates.size >= TENANTS * 2, `calls were placed (${creates.size})`);

  // Every email at least once; any duplicate is the same message (same Message-ID, recipient, subject).
  // (A follow-up still pending when its walk stopped is cancelled, by design: it was never due to be sent.)
  const emails = (await pool.query(`select id, address, outcome from contact_attempts where channel = 'email' and outcome <> 'canceled'`)).rows as { id: string; address: string; outcome: string }[];
  t.same(emails.filter((e) => e.outcome !== 'sent'), [], 'every email attempt that was due ended sent');
  const byId = new Map<string, { to: string[]; subject: string }[]>();
  for (const m of sink.messages) byId.set(m.messageId ?? '', [...(byId.get(m.messageId ?? '') ?? []), { to: m.envelopeTo, subject: m.subject ?? '' }]);
  const missing = emails.filter((e) => !byId.has(`<${e.id}@abuse-desk>`));
  t.same(missing, [], 'every email arrived at least once');
  const known = new Set(emails.map((e) => `<${e.id}@abuse-desk>`));
  const unknown = [...byId.keys()].filter((id) => !known.has(id));
  t.same(unknown, [], 'every message that arrived belongs to an email attempt');
  // A resend is rendered again from the ticket as it is then (evidence, deadline, a fresh resolution link):
  // the same Message-ID, recipient and ticket — the content may be newer.
  const ticketOf = (subject: string) => /\[(ABU-\d+)\]/.exec(subject)?.[1] ?? subject;
  const inconsistent = [...byId.entries()].filter(([, copies]) => new Set(copies.map((c) => `${c.to.join(',')}|${ticketOf(c.subject)}`)).size > 1);
  t.same(inconsistent, [], 'a duplicate goes to the same recipient about the same ticket');
  const duplicates = [...byId.values()].filter((c) => c.length > 1).length;
  t.comment(`emails: ${emails.length} attempts, ${sink.messages.length} messages received, ${duplicates} sent more than once (same Message-ID)`);

  // Every enforcement event delivered, with its own eventId, and in per-tenant order across every attempt.
  const outbox = (await pool.query(`select id, tenant_id, tenant_seq::int as seq, type from outbox order by tenant_id, tenant_seq`)).rows as { id: string; tenant_id: string; seq: number; type: string }[];
  t.ok(outbox.length >= TENANTS * 2, `enforcement events (${outbox.length}): each tenant suspended and reinstated`);
  for (const e of outbox) {
    const got = receiver.attempts.filter((a) => a.eventId === e.id);
    if (got.length === 0 || got.some((a) => a.sequence !== e.seq || a.tenantId !== e.tenant_id || a.type !== e.type)) t.fail(`event ${e.tenant_id} #${e.seq} was not delivered as written`);
  }
  // Per tenant, event n+1 is never attempted before event n was acknowledged (an attempt that reached the
  // receiver but whose sender died before the answer does not count as delivered).
  const firstSeq = new Map(tenants.map((id) => [id, Math.min(...outbox.filter((e) => e.tenant_id === id).map((e) => e.seq))]));
  for (const id of tenants) {
    const acked = new Set<number>();
    const early: number[] = [];
    for (const entry of receiver.log.filter((l) => l.tenantId === id)) {
      if (entry.kind === 'acknowledged') acked.add(entry.sequence);
      else if (entry.sequence > firstSeq.get(id)! && !acked.has(entry.sequence - 1)) early.push(entry.sequence);
    }
    const seqs = receiver.attempts.filter((a) => a.tenantId === id).map((a) => a.sequence);
    t.same(early, [], `${id}: no event attempted before the one before it was acknowledged (${seqs.join(' ')})`);
  }

  // Every verdict counted once.
  let counted = 0;
  for (const id of tenants) {
    const r = (await pool.query(`select coalesce(sum(spam + phish + virus + clean), 0)::int as n from counts where tenant_id = $1`, [id])).rows[0] as { n: number };
    counted += r.n;
  }
  t.equal(counted, posted.size, `every verdict counted once (${posted.size})`);

  // Nothing left claimed.
  const leased = (await pool.query(`select
      (select count(*)::int from contact_attempts where locked_by is not null and status in ('pending', 'dispatching')) as attempts,
      (select count(*)::int from outbox_deliveries where locked_by is not null and status = 'pending') as deliveries,
      (select count(*)::int from call_commands where locked_by is not null and status = 'pending') as commands`)).rows[0];
  t.same(leased, { attempts: 0, deliveries: 0, commands: 0 }, 'nothing is left claimed');
  t.ok(inFlight.emails + inFlight.calls + inFlight.deliveries > 0, 'some kills landed while claimed work was in flight');
});
