// Complaint feeds (issue 17) end to end: reports sent over SMTP by a client that is not ours (Debian's
// swaks) to the intake listener — ARF from a stamped message, ARF attributed by IP and time (and one whose IP
// was reassigned), an RFC 6590 redacted report, X-ARF, a duplicate, forged and expired stamps, a broken MIME
// body (dead letter), an oversized message (refused at SMTP); a SIGKILL of the intake right after 250 loses
// nothing; a tenant tripping the complaint rule gets a ticket with complaint evidence, on PGlite and PostgreSQL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeStamp } from '@abuse-desk/domain';
import { waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import type { Test } from 'tap';
import { launchChromium, openPage } from './browser.js';
import { ADMIN_TOKEN, client, freePort, label, prepareService, recordSecret } from './harness.js';
import type { Arrangement } from './harness.js';

const SECRET = 'stamp-secret-for-the-intake-test';
recordSecret(SECRET);
const fixture = (name: string) => readFileSync(new URL(`../../services/intake/fixtures/${name}`, import.meta.url), 'utf8');
const tmp = mkdtempSync(path.join(tmpdir(), 'abuse-desk-intake-'));

/** Sends `message` with swaks; the last SMTP reply code and text. */
function swaks(port: number, message: string, extra: string[] = []): { code: number; text: string; stdout: string } {
  const file = path.join(tmp, `m-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(file, message);
  const r = spawnSync('swaks', ['--server', `127.0.0.1:${port}`, '--from', 'fbl@provider.example', '--to', 'fbl@abuse-desk.example', '--data', `@${file}`, '--timeout', '30', ...extra], { encoding: 'utf8' });
  if (r.error) throw new Error(`swaks could not be run (${r.error.message}): install it (Debian: apt-get install swaks; scripts/test.sh does)`);
  const replies = [...(r.stdout ?? '').matchAll(/^<(?:-|~|\*\*|~\*\*) +(\d{3})[ -](.*)$/gm)];
  // The last reply before QUIT's 221: the answer to the message itself (or to the command that failed).
  const last = replies.filter((m) => m[1] !== '221').at(-1);
  return { code: last ? Number(last[1]) : 0, text: last?.[2] ?? r.stderr ?? '', stdout: r.stdout ?? '' };
}

/** The stamped ARF fixture made current: its own Message-ID, a fresh (or given) stamp, arrival now. */
function stampedReport(o: { tenantId: string; messageId: string; stamp?: string; arrival?: Date; sourceIp?: string }) {
  const arrival = (o.arrival ?? new Date()).toUTCString().replace('GMT', '+0000');
  const stamp = o.stamp ?? makeStamp(o.tenantId, Math.floor(Date.now() / 1000), o.messageId, SECRET);
  return fixture('arf-stamped.eml')
    .replace('<20261130.stamped@mail.acme.example>', o.messageId)
    .replace(/^X-Abuse-Desk-Tenant: .*$/m, `X-Abuse-Desk-Tenant: ${stamp}`)
    .replace(/^Arrival-Date: .*$/m, `Arrival-Date: ${arrival}`)
    .replace(/^Source-IP: .*$/m, `Source-IP: ${o.sourceIp ?? '192.0.2.25'}`);
}

async function intakeService(t: Test, name: string, arrangement: Arrangement, roleSets: string[][], env: Record<string, string> = {}) {
  const smtpPort = await freePort();
  const svc = await prepareService({ name, arrangement, roleSets, env: { INTAKE_SMTP_PORT: String(smtpPort), TENANT_STAMP_SECRET: SECRET, INTAKE_MAX_MESSAGE_BYTES: '65536', ...env } });
  t.teardown(() => svc.stop());
  await svc.start();
  const api = client(svc.baseUrl);
  const report = async (messageId: string) => waitUntil(async () => (await api('GET', '/v1/complaints?limit=500')).body.items.find((r: any) => r.messageId === messageId && r.status === 'done'), { message: `no processed report of ${messageId}`, timeoutMs: 30_000 } as never);
  return { svc, api, smtpPort, report };
}

t.test('reports over SMTP are attributed by stamp or by IP and time, or kept unattributed; duplicates, broken and oversized ones are handled', async (t) => {
  const { svc, api, smtpPort, report } = await intakeService(t, 'intake-attribution', { engine: 'postgres', processes: 'one' }, [['api', 'counter', 'notifier', 'enforcer', 'intake']]);
  for (const id of ['acme', 'globex', 'initech', 'initrode']) t.equal((await api('PUT', `/v1/tenants/${id}`, { name: id })).status, 200);
  // 198.51.100.7 was initech's until 2025-12-01 00:00 UTC and globex's from then on: the headers-only
  // report's mail arrived 2025-12-01 13:15 UTC, so it blames globex.
  t.equal((await api('PUT', '/v1/tenants/initech/ips', [{ cidr: '198.51.100.0/24', validUntil: '2025-12-01T00:00:00Z' }, { cidr: '203.0.113.0/24' }])).status, 200);
  t.equal((await api('PUT', '/v1/tenants/globex/ips', [{ cidr: '198.51.100.0/24', validFrom: '2025-12-01T00:00:00Z' }])).status, 200);
  t.equal((await api('PUT', '/v1/tenants/initrode/ips', [{ cidr: '2001:db8:25::/48' }])).status, 200);
  const overlap = await api('PUT', '/v1/tenants/acme/ips', [{ cidr: '198.51.100.0/24', validFrom: '2025-11-01T00:00:00Z', validUntil: '2025-12-15T00:00:00Z' }]);
  t.equal(overlap.status, 409, 'a range already assigned for an overlapping period is refused');
  t.match(overlap.body.detail, /198\.51\.100\.0\/24/);
  t.equal((await api('PUT', '/v1/tenants/acme/ips', [{ cidr: '192.0.2.1/24' }])).status, 400, 'host bits set: refused');

  // (a) a stamped ARF counts against the stamp's tenant; its resend is a duplicate.
  const stamped = stampedReport({ tenantId: 'acme', messageId: '<stamped.1@mail.acme.example>' });
  const sent = swaks(smtpPort, stamped);
  t.equal(sent.code, 250, `stored: ${sent.text}`);
  t.match(await report('<stamped.1@mail.acme.example>'), { outcome: 'counted', tenantId: 'acme', attributedBy: 'stamp', format: 'arf', feedbackType: 'abuse', sourceIp: '192.0.2.25' });
  t.equal(swaks(smtpPort, stamped).code, 250);
  await waitUntil(async () => (await api('GET', '/v1/complaints?outcome=duplicate')).body.items.length === 1, { message: 'the resend was not recorded as a duplicate' } as never);

  // (b) forged and expired stamps attribute nobody by the stamp (no IP assignment covers 192.0.2.25).
  const forged = stampedReport({ tenantId: 'acme', messageId: '<forged@mail.acme.example>', stamp: makeStamp('acme', Math.floor(Date.now() / 1000), '<forged@mail.acme.example>', 'another-secret-entirely') });
  const copied = stampedReport({ tenantId: 'acme', messageId: '<copied@elsewhere.example>', stamp: makeStamp('acme', Math.floor(Date.now() / 1000), '<stamped.1@mail.acme.example>', SECRET) });
  const expired = stampedReport({ tenantId: 'acme', messageId: '<old@mail.acme.example>', stamp: makeStamp('acme', Math.floor(Date.now() / 1000) - 100 * 86400, '<old@mail.acme.example>', SECRET) });
  for (const m of [forged, copied, expired]) t.equal(swaks(smtpPort, m).code, 250);
  t.match(await report('<forged@mail.acme.example>'), { outcome: 'unattributed', tenantId: null, attributionDetail: /stamp: bad-signature/ });
  t.match(await report('<copied@elsewhere.example>'), { outcome: 'unattributed', attributionDetail: /stamp: bad-signature/ }, 'a stamp copied onto another message blames nobody');
  t.match(await report('<old@mail.acme.example>'), { outcome: 'unattributed', attributionDetail: /stamp: expired/ });

  // Agents see the unattributed reports and why in the ticket UI.
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(t, browser, 1280, [401]);
  await page.goto(`${svc.baseUrl}/ui/complaints`);
  await page.getByLabel('API token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Complaint reports' }).waitFor();
  const table = page.getByTestId('complaints');
  await table.getByText('<old@mail.acme.example>').waitFor();
  t.equal(await table.locator('tbody tr').count(), 3, 'the three unattributed reports (the default view)');
  t.match(await table.innerText(), /stamp: expired/, 'with why they were not attributed');
  await page.getByLabel('Show').selectOption('counted');
  await table.getByText('<stamped.1@mail.acme.example>').waitFor();
  t.match(await table.innerText(), /acme/);
  t.same(errors, [], 'no errors in the browser console');

  // (c) by IP and time, a reassigned IP, IPv6 in a redacted report, X-ARF.
  t.equal(swaks(smtpPort, fixture('arf-headers-only.eml')).code, 250);
  t.match(await report('<c0ffee.42@mailer.globex.example>'), { outcome: 'counted', tenantId: 'globex', attributedBy: 'ip', attributionDetail: /198\.51\.100\.0\/24 of globex/ });
  t.equal(swaks(smtpPort, fixture('arf-redacted.eml')).code, 250);
  t.match(await report('<5f1e.picks.20251130@news.initrode.example>'), { outcome: 'counted', tenantId: 'initrode', attributedBy: 'ip', sourceIp: '2001:db8:25::1' });
  t.equal(swaks(smtpPort, fixture('xarf.eml')).code, 250);
  t.match(await report('<8f2e1c.spam@mailer.initech.example>'), { outcome: 'counted', tenantId: 'initech', attributedBy: 'ip', format: 'xarf' });

  // (d) a broken MIME body is a dead letter with its raw bytes; a plain email too.
  t.equal(swaks(smtpPort, fixture('broken-mime.eml')).code, 250);
  const dead = await waitUntil(async () => (await api('GET', '/v1/dead-letters')).body.items.find((d: any) => d.source === 'complaint-smtp'), { message: 'no dead letter for the broken report' } as never);
  t.match(dead.raw, 'fbl.0b7d3e51.20251130162044@fbl-out.example.net', 'kept with its raw bytes');
  t.ok(dead.reason.length > 5, `with the reason: ${dead.reason}`);

  // (e) an oversized message is refused at SMTP and stores nothing.
  const before = (await api('GET', '/v1/complaints?limit=500')).body.items.length;
  const big = swaks(smtpPort, stampedReport({ tenantId: 'acme', messageId: '<big@mail.acme.example>' }).replace('\r\n\r\n', `\r\nX-Padding: ${'x'.repeat(70_000)}\r\n\r\n`));
  t.equal(big.code, 552, `refused: ${big.text}`);
  t.equal((await api('GET', '/v1/complaints?limit=500')).body.items.length, before, 'nothing stored');

  // The metrics count what came in and how it ended.
  const metrics = await (await fetch(`${svc.baseUrl}/metrics`)).text();
  t.match(metrics, /abuse_desk_complaint_reports_received_total\{source="smtp"\} 9\n/, 'nine stored (the oversized one was refused)');
  t.match(metrics, /abuse_desk_complaint_reports_processed_total\{outcome="counted",attributed_by="stamp"\} 1/);
  t.match(metrics, /abuse_desk_complaint_reports_processed_total\{outcome="counted",attributed_by="ip"\} 3/);
  t.match(metrics, /abuse_desk_complaint_reports_processed_total\{outcome="dead_letter",attributed_by="none"\} 1/);
  t.match(metrics, /abuse_desk_complaint_queue_oldest_seconds 0/);
});

t.test('with INTAKE_TLS_CERT and INTAKE_TLS_KEY the listener offers STARTTLS and takes a report over TLS', async (t) => {
  const cert = path.join(tmp, 'cert.pem');
  const key = path.join(tmp, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=intake.test'], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  const { api, smtpPort, report } = await intakeService(t, 'intake-tls', { engine: 'postgres', processes: 'one' }, [['api', 'counter', 'notifier', 'enforcer', 'intake']], { INTAKE_TLS_CERT: cert, INTAKE_TLS_KEY: key });
  t.equal((await api('PUT', '/v1/tenants/acme', { name: 'acme' })).status, 200);
  const sent = swaks(smtpPort, stampedReport({ tenantId: 'acme', messageId: '<tls.1@mail.acme.example>' }), ['--tls']);
  t.match(sent.stdout, /STARTTLS/, 'the client asked for STARTTLS');
  t.match(sent.stdout, /^<~ +250 /m, 'and got 250 inside TLS');
  t.equal(sent.code, 250);
  t.match(await report('<tls.1@mail.acme.example>'), { outcome: 'counted', tenantId: 'acme' });
});

t.test('a SIGKILL of the intake right after 250 loses no report', async (t) => {
  const { svc, api, smtpPort, report } = await intakeService(t, 'intake-crash', { engine: 'postgres', processes: 'one' }, [['api', 'counter', 'notifier', 'enforcer'], ['intake']], { WORK_LEASE_SECONDS: '3' });
  t.equal((await api('PUT', '/v1/tenants/acme', { name: 'acme' })).status, 200);
  const ids = Array.from({ length: 5 }, (_, i) => `<crash.${i}@mail.acme.example>`);
  for (const id of ids) t.equal(swaks(smtpPort, stampedReport({ tenantId: 'acme', messageId: id })).code, 250);
  await svc.killProcess(1); // at once after the last 250: some reports may still wait to be processed
  await svc.startProcess(1);
  for (const id of ids) t.match(await report(id), { outcome: 'counted', tenantId: 'acme' }, `${id} was kept and processed`);
});

for (const arrangement of [{ engine: 'pglite', processes: 'one' }, { engine: 'postgres', processes: 'one' }] as Arrangement[]) {
  t.test(`${label(arrangement)}: a tenant tripping the complaint rule gets a ticket with complaint evidence`, async (t) => {
    const { api, smtpPort } = await intakeService(t, `intake-rule-${arrangement.engine}`, arrangement, [['api', 'counter', 'notifier', 'enforcer', 'intake']]);
    t.equal((await api('PUT', '/v1/tenants/acme', { name: 'ACME Mail' })).status, 200);
    t.equal((await api('PUT', '/v1/tenants/acme/contacts', [{ name: 'Alice', email: 'alice@acme.example', role: 'contact' }])).status, 200);
    t.equal((await api('PUT', '/v1/tenants/acme/policy', { policy: { complaints: { windowSeconds: 3600, minComplaints: 3, minComplaintRate: 0.01 } }, reason: 'test the complaint rule' })).status, 200);
    const now = Date.now();
    const verdicts = Array.from({ length: 100 }, (_, i) => ({ tenantId: 'acme', messageId: `<v${i}@mail.acme.example>`, verdict: 'clean', occurredAt: new Date(now - 60_000 + i).toISOString(), sender: 'news@acme.example' }));
    t.equal((await api('POST', '/v1/verdicts', verdicts)).status, 200);
    // Two reports: below minComplaints, no ticket; the third (3 % of 100 ≥ 1 %) trips.
    for (let i = 0; i < 2; i++) t.equal(swaks(smtpPort, stampedReport({ tenantId: 'acme', messageId: `<rule.${i}@mail.acme.example>` })).code, 250);
    await waitUntil(async () => (await api('GET', '/v1/complaints?outcome=counted')).body.items.length === 2, { message: 'two reports were not counted' } as never);
    t.equal((await api('GET', '/v1/tickets?tenantId=acme')).body.items.length, 0, 'two reports do not trip');
    t.equal(swaks(smtpPort, stampedReport({ tenantId: 'acme', messageId: '<rule.2@mail.acme.example>' })).code, 250);
    const summary = await waitUntil(async () => (await api('GET', '/v1/tickets?tenantId=acme')).body.items[0], { message: 'no ticket after the third report' } as never);
    const ticket = (await api('GET', `/v1/tickets/${summary.number}`)).body;
    t.match(ticket, { rule: 'complaints', state: 'awaiting_response', evidence: { rule: 'complaints', total: 100, ratio: 0.03, thresholds: { minComplaints: 3, minComplaintRate: 0.01 }, complaints: { count: 3, feedbackTypes: { abuse: 3 } } } });
    t.equal(ticket.evidence.complaints.samples.length, 3, 'the samples (up to five)');
    const headers: string = ticket.evidence.complaints.samples[0].headers;
    t.match(headers, /Message-ID: <rule\.\d@mail\.acme\.example>/, 'a sample carries the reported message’s headers');
    t.notMatch(headers, /@(example\.net|gmail|yahoo)/i, 'the recipient addresses are redacted');
    t.match(headers, /\[redacted\]/);
    const counts = (await api('GET', '/v1/tenants/acme/counts')).body;
    t.equal(counts.buckets.reduce((n: number, b: any) => n + b.complaint, 0), 3, 'the tenant’s counts show the three complaints, counted like verdicts of kind complaint');
    t.equal(counts.buckets.reduce((n: number, b: any) => n + b.clean, 0), 100, 'beside its 100 clean verdicts');
  });
}
