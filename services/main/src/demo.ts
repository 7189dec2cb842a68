// `pnpm demo`: seeds a demo tenant with contacts and a spam burst into a running abuse-desk, then follows
// the ticket until it is suspended. Start the service with short timeouts first (see the README).
import { loadConfig } from '@abuse-desk/config';

const config = loadConfig(process.env);
const base = config.publicBaseUrl;
const token = config.adminToken;
if (!token) {
  process.stderr.write('abuse-desk demo: set ADMIN_TOKEN to the admin token of the running service\n');
  process.exit(2);
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const tenantId = `demo-shop-${Date.now().toString(36)}`;
await call('PUT', `/v1/tenants/${tenantId}`, { name: 'Demo Shop Ltd', notes: 'created by pnpm demo' });
await call('PUT', `/v1/tenants/${tenantId}/contacts`, [
  { name: 'Alice Admin', phone: '+14155550101', email: 'alice@demo-shop.example', role: 'contact', timezone: 'Europe/Berlin' },
  { name: 'Bob Backup', phone: '+14155550102', email: 'bob@demo-shop.example', role: 'contact' },
  { name: 'Tara TAM', email: 'tara@platform.example', role: 'tam', preferredChannel: 'email' },
]);
const now = Date.now();
const verdicts = Array.from({ length: 150 }, (_, i) => ({
  tenantId,
  messageId: `<demo-${now}-${i}@demo-shop.example>`,
  verdict: i % 3 === 0 ? 'clean' : 'spam',
  occurredAt: new Date(now - (150 - i) * 1000).toISOString(),
  sender: i % 2 ? 'newsletter@demo-shop.example' : 'billing@demo-shop.example',
  recipients: 3,
  engine: 'demo',
}));
const ingest = await call('POST', '/v1/verdicts', verdicts);
process.stdout.write(`tenant ${tenantId}: ${ingest.accepted} verdicts counted, tickets opened: ${ingest.ticketsOpened.join(', ') || 'none'}\n`);
const number = ingest.ticketsOpened[0];
if (!number) {
  process.stderr.write('no ticket opened: is the default policy stricter than 50 spam at 5%? (GET /v1/policy)\n');
  process.exit(1);
}

let last = '';
const started = Date.now();
while (Date.now() - started < 180_000) {
  const t = await call('GET', `/v1/tickets/${number}`);
  const line = `${number}: ${t.state}${t.deadlineAt ? `, deadline ${t.deadlineAt}` : ''} — ${t.attempts.map((a: { kind: string; contactName: string; outcome: string | null; status: string }) => `${a.kind}→${a.contactName}:${a.outcome ?? a.status}`).join(', ')}`;
  if (line !== last) process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  last = line;
  if (t.state === 'suspended') {
    const outbound = await call('GET', `/v1/tenants/${tenantId}/outbound`);
    process.stdout.write(`outbound mail of ${tenantId}: ${outbound.enabled ? 'enabled' : 'DISABLED'} since ${outbound.since}\n`);
    process.stdout.write(`See it at ${base}/ui/tickets/${number} (sign in with the admin token); the tenant's resolution link is in the console emails of the service.\n`);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
process.stderr.write('the ticket was not suspended within 3 minutes: start the service with RESOLUTION_TIMEOUT_SECONDS=20 CALL_RING_SECONDS=5\n');
process.exit(1);
