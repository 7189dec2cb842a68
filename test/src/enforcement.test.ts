// Enforcement the mail platform can rely on (issue #5): signed webhook deliveries that survive a failing
// receiver (5xx, timeouts, refused connections) and a SIGKILLed enforcer, in per-tenant order, with the
// same events on the Kafka control topic (a real three-node Kafka cluster), read back with kcat.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { readWithKcat, spamBurst, startKafkaCluster, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { client, freePort, kafkaTopics, prepareService } from './harness.js';

const SECRET = 'whsec-test-0123456789';

type Mode = 'ok' | '500' | 'hang';

type Attempt = { eventId: string; type: string; tenantId: string; sequence: number; outcome: 'acknowledged' | 'failed' | 'unanswered' };

/**
 * A receiver that checks the signature, records every attempt in arrival order — the ones it fails or
 * leaves unanswered too, so ordering is checked over all of them — and fails on command (per tenant).
 */
async function startReceiver(port: number) {
  const attempts: Attempt[] = [];
  const badSignatures: string[] = [];
  let mode: (tenantId: string) => Mode = () => 'ok';
  let server: Server | null = null;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
          if (req.headers['x-abuse-desk-signature'] !== expected) {
            badSignatures.push(body);
            res.writeHead(401).end();
            return;
          }
          const e = JSON.parse(body);
          const m = mode(e.tenantId);
          const attempt: Attempt = { eventId: e.eventId, type: e.type, tenantId: e.tenantId, sequence: e.sequence, outcome: m === 'ok' ? 'acknowledged' : m === '500' ? 'failed' : 'unanswered' };
          attempts.push(attempt);
          if (m === 'hang') return; // never answers
          if (m === '500') {
            res.writeHead(500).end('receiver down');
            return;
          }
          res.writeHead(204).end();
        });
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = null;
    });
  await listen();
  const acknowledged = () => attempts.filter((a) => a.outcome === 'acknowledged');
  return { attempts, acknowledged, badSignatures, setMode: (m: (tenantId: string) => Mode) => (mode = m), listen, close };
}

/**
 * The attempts that broke per-tenant order: event n + 1 attempted while event n had not been acknowledged
 * yet. Takes one tenant's attempts in arrival order.
 */
function attemptedOutOfOrder(attempts: Attempt[]): Attempt[] {
  let acknowledged = 0;
  const early: Attempt[] = [];
  for (const a of attempts) {
    if (a.sequence > acknowledged + 1) early.push(a);
    if (a.outcome === 'acknowledged') acknowledged = Math.max(acknowledged, a.sequence);
  }
  return early;
}

t.test('suspensions and reinstatements reach the webhook and the control topic, signed and in per-tenant order, through 5xx, timeouts, refused connections and a killed enforcer', async (t) => {
  const cluster = await startKafkaCluster();
  t.teardown(() => cluster.stop());
  const kafka = await kafkaTopics(cluster, 'enforcement');
  const port = await freePort();
  const receiver = await startReceiver(port);
  t.teardown(() => receiver.close());
  const svc = await prepareService({
    name: 'enforcement',
    arrangement: { engine: 'postgres', processes: 'four' },
    env: {
      ...kafka,
      ENFORCEMENT_WEBHOOK_URL: `http://127.0.0.1:${port}/abuse-desk/events`,
      ENFORCEMENT_WEBHOOK_SECRET: SECRET,
      RESOLUTION_TIMEOUT_SECONDS: '1',
      WORK_LEASE_SECONDS: '3',
    },
  });
  t.teardown(() => svc.stop());
  await svc.start();
  const api = client(svc.baseUrl);

  // Tenant "down" has a receiver that fails for it; "fine" must not be held up by that.
  receiver.setMode((tenantId) => (tenantId === 'down' ? '500' : 'ok'));
  const down = (await api('POST', '/v1/verdicts', spamBurst('down', 60))).body.ticketsOpened[0];
  const fine = (await api('POST', '/v1/verdicts', spamBurst('fine', 60))).body.ticketsOpened[0];
  t.ok(down && fine);
  await waitUntil(() => receiver.acknowledged().some((e) => e.tenantId === 'fine' && e.type === 'outbound.suspended'), { timeoutMs: 30_000, message: "fine's suspension was held up" });
  t.notOk(receiver.acknowledged().some((e) => e.tenantId === 'down'), "down's event is not delivered while its receiver fails");
  const retrying = await waitUntil(async () => {
    const d = (await api('GET', `/v1/tickets/${down}`)).body.enforcementEvents[0]?.deliveries.find((x: any) => x.destination === 'webhook');
    return d?.status === 'retrying' && d.lastError ? d : null; // claimed for a retry shows as retrying before its outcome
  }, { message: 'the failing delivery is not shown as retrying' });
  t.match(retrying.lastError, /HTTP 500/);
  const age = await waitUntil(async () => {
    const m = /abuse_desk_outbox_oldest_pending_seconds\{destination="webhook"\} ([0-9.e+-]+)/.exec(await (await fetch(`${svc.processUrls[3]}/metrics`)).text());
    return m && Number(m[1]) > 0 ? Number(m[1]) : null;
  }, { message: 'no age of the oldest undelivered event' });
  t.ok(age > 0, 'the age of the oldest undelivered event is exported');

  // The agent reinstates both while "down"'s suspension is still undelivered: its reinstatement must wait.
  t.equal((await api('POST', `/v1/tickets/${down}/resolve`, { note: 'fixed' })).status, 200);
  t.equal((await api('POST', `/v1/tickets/${fine}/resolve`, { note: 'fixed' })).status, 200);
  await waitUntil(() => receiver.acknowledged().some((e) => e.tenantId === 'fine' && e.type === 'outbound.reinstated'), { timeoutMs: 30_000, message: "fine's reinstatement" });

  // Now the receiver hangs (timeouts), then is gone altogether (refused connections)…
  receiver.setMode(() => 'hang');
  await waitUntil(async () => {
    const d = (await api('GET', `/v1/tickets/${down}`)).body.enforcementEvents[0].deliveries.find((x: any) => x.destination === 'webhook');
    return /timed out/.test(d.lastError ?? '');
  }, { timeoutMs: 40_000, message: 'no timeout was recorded' });
  await receiver.close();
  await waitUntil(async () => {
    const d = (await api('GET', `/v1/tickets/${down}`)).body.enforcementEvents[0].deliveries.find((x: any) => x.destination === 'webhook');
    return /ECONNREFUSED|fetch failed/.test(d.lastError ?? '');
  }, { timeoutMs: 40_000, message: 'no refused connection was recorded' });
  // …and the enforcer is SIGKILLed in the middle of it, then comes back, and so does the receiver.
  await svc.killProcess(3);
  await svc.startProcess(3);
  receiver.setMode(() => 'ok');
  await receiver.listen();

  await waitUntil(() => receiver.acknowledged().some((e) => e.tenantId === 'down' && e.type === 'outbound.reinstated'), { timeoutMs: 60_000, message: "down's events never arrived" });
  t.same(receiver.badSignatures, [], 'every delivery was signed with the secret');

  const tk = (await api('GET', `/v1/tickets/${down}`)).body;
  await waitUntil(async () => {
    const x = (await api('GET', `/v1/tickets/${down}`)).body;
    return x.enforcementEvents.every((e: any) => e.deliveries.every((d: any) => d.status === 'delivered'));
  }, { timeoutMs: 30_000, message: 'not every delivery is marked delivered' });

  // Every attempt the receiver saw, failed and unanswered ones included, in the order they arrived.
  const downAttempts = receiver.attempts.filter((a) => a.tenantId === 'down');
  t.ok(downAttempts.some((a) => a.sequence === 1 && a.outcome === 'failed') && downAttempts.some((a) => a.sequence === 1 && a.outcome === 'unanswered'), "down's suspension was retried through 500s and timeouts");
  for (const [tenantId, ticket] of [['down', down], ['fine', fine]] as const) {
    const mine = receiver.attempts.filter((a) => a.tenantId === tenantId);
    t.same(attemptedOutOfOrder(mine), [], `${tenantId}: no event was attempted before the one before it was acknowledged`);
    const events = (await api('GET', `/v1/tickets/${ticket}`)).body.enforcementEvents.map((e: any) => `${e.sequence} ${e.type} ${e.eventId}`);
    t.same(events.map((e: string) => e.split(' ', 2).join(' ')), ['1 outbound.suspended', '2 outbound.reinstated'], `${tenantId}: a suspension, then a reinstatement`);
    t.same([...new Set(mine.map((a) => `${a.sequence} ${a.type} ${a.eventId}`))], events, `${tenantId}: every attempt, retries included, carries its event's sequence and eventId`);
  }
  const tenant = (await api('GET', '/v1/tenants/down')).body;
  t.same(tenant.enforcementEvents.map((e: any) => e.type), ['outbound.suspended', 'outbound.reinstated'], 'the tenant shows its enforcement events');

  // The same events on the control topic, in per-tenant order (read with kcat, not our client).
  const topic = await readWithKcat(cluster.brokers, kafka.KAFKA_CONTROL_TOPIC);
  const onTopic = topic.filter((m) => m.key === 'down').map((m) => JSON.parse(m.value));
  t.same(onTopic.map((e) => e.type), ['outbound.suspended', 'outbound.reinstated']);
  t.same(new Set(onTopic.map((e) => e.eventId)), new Set(tk.enforcementEvents.map((e: any) => e.eventId)), 'the same event ids on both destinations');
});

t.test('an MTA polls outbound status with ETags and lists every suspended tenant in one call', async (t) => {
  const svc = await prepareService({ name: 'etag', arrangement: { engine: 'pglite', processes: 'one' }, env: { RESOLUTION_TIMEOUT_SECONDS: '1' } });
  t.teardown(() => svc.stop());
  await svc.start();
  const admin = client(svc.baseUrl);
  const ingest = client(svc.baseUrl, (await admin('POST', '/v1/tokens', { name: 'mta', role: 'ingest' })).body.token);
  for (const id of ['mta-a', 'mta-b', 'mta-c']) {
    await admin('POST', '/v1/verdicts', spamBurst(id, 60));
  }
  await waitUntil(async () => (await ingest('GET', '/v1/outbound/suspended?limit=2')).body.items?.length === 2, { message: 'nobody was suspended' });
  const first = await ingest('GET', '/v1/outbound/suspended?limit=2');
  t.same(first.body.items.map((i: any) => i.tenantId), ['mta-a', 'mta-b']);
  t.ok(first.body.items.every((i: any) => i.enabled === false && /^ABU-/.test(i.ticketNumber)));
  const rest = await waitUntil(async () => {
    const r = await ingest('GET', `/v1/outbound/suspended?limit=2&cursor=${first.body.nextCursor}`);
    return r.body.items.length === 1 ? r : null;
  }, { message: 'the third tenant was not suspended' });
  t.same(rest.body.items.map((i: any) => i.tenantId), ['mta-c']);
  t.equal(rest.body.nextCursor, null);

  const url = `${svc.baseUrl}/v1/tenants/mta-a/outbound`;
  const auth = { authorization: `Bearer ${(await admin('POST', '/v1/tokens', { name: 'mta2', role: 'ingest' })).body.token}` };
  const r1 = await fetch(url, { headers: auth });
  const etag = r1.headers.get('etag')!;
  t.ok(etag, 'the answer carries an ETag');
  const r2 = await fetch(url, { headers: { ...auth, 'if-none-match': etag } });
  t.equal(r2.status, 304, 'unchanged status: 304, no body');
  const number = ((await r1.json()) as { ticketNumber: string }).ticketNumber;
  await admin('POST', `/v1/tickets/${number}/resolve`, { note: 'ok' });
  const r3 = await fetch(url, { headers: { ...auth, 'if-none-match': etag } });
  t.equal(r3.status, 200, 'a reinstatement changes the ETag');
  t.equal(((await r3.json()) as { enabled: boolean }).enabled, true);
});
