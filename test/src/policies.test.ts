// The outbreaks of issue #6, end to end on PGlite and PostgreSQL: a virus outbreak suspended at once, a
// mail storm against the tenant's own baseline, a repeat offender on probation, and shadow mode.
import { spamBurst, startSmtpSink, verdict, verdictBurst, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { CONTACTS, NO_DIGESTS, client, label, prepareService } from './harness.js';
import type { Arrangement } from './harness.js';

const arrangements: Arrangement[] = [
  { engine: 'pglite', processes: 'one' },
  { engine: 'postgres', processes: 'one' },
];

for (const arrangement of arrangements) {
  t.test(label(arrangement), async (t) => {
    const sink = await startSmtpSink();
    t.teardown(() => sink.close());
    const svc = await prepareService({ name: `policies-${arrangement.engine}`, arrangement, env: { SMTP_URL: sink.url, CALL_RING_SECONDS: '1', RESOLUTION_TIMEOUT_SECONDS: '3600', WORK_LEASE_SECONDS: '3', ...NO_DIGESTS } });
    t.teardown(() => svc.stop());
    await svc.start();
    const api = client(svc.baseUrl);
    const tenant = async (id: string, override?: object) => {
      await api('PUT', `/v1/tenants/${id}`, { name: `Tenant ${id}` });
      await api('PUT', `/v1/tenants/${id}/contacts`, CONTACTS);
      if (override) t.equal((await api('PUT', `/v1/tenants/${id}/policy`, { policy: override, reason: 'issue 6 test' })).status, 200);
    };
    const now = new Date();

    t.test('a virus outbreak with action "suspend" disables outbound mail before any call or email, and the walk still runs', async (t) => {
      await tenant('relay', { critical: { windowSeconds: 300, minVirus: 5, action: 'suspend' } });
      const r = await api('POST', '/v1/verdicts', verdictBurst('relay', 5, { verdict: 'virus', at: now }));
      const number = r.body.ticketsOpened[0];
      const opened = (await api('GET', `/v1/tickets/${number}`)).body;
      t.match(opened, { state: 'suspended', severity: 'critical', rule: 'virus', outboundDisabled: true, deadlineAt: null });
      t.equal((await api('GET', '/v1/tenants/relay/outbound')).body.enabled, false, 'mail is off as soon as the ticket exists');
      t.equal(opened.enforcementEvents[0].type, 'outbound.suspended');
      const suspendedAt = new Date(opened.enforcementEvents[0].at).getTime();
      const done = await waitUntil(async () => {
        const x = (await api('GET', `/v1/tickets/${number}`)).body;
        return !x.walking ? x : null;
      }, { timeoutMs: 30_000, message: 'the walk did not run to its end' });
      t.equal(done.state, 'suspended', 'still suspended: the one-hour timer does not apply');
      t.equal(done.deadlineAt, null);
      const performed = done.attempts.filter((a: any) => a.completedAt).map((a: any) => new Date(a.completedAt).getTime());
      t.ok(performed.length >= 3 && performed.every((at: number) => at >= suspendedAt), 'every call and email came after the suspension');
      t.ok(done.attempts.some((a: any) => a.kind === 'call'), 'contacts were called');
      t.ok(done.attempts.some((a: any) => a.kind === 'final'), 'and emailed when nobody was reached');
    });

    t.test('a storm of clean mail at 30 × the tenant’s baseline opens a surge ticket', async (t) => {
      const surge = { windowSeconds: 300, multiple: 20, baselineDays: 1, minVolume: 200 };
      await tenant('newsletter', { surge });
      // A day of ordinary traffic: 10 messages in each of the last 250 five-minute windows before this one.
      const windowStart = Math.floor(now.getTime() / 60_000) * 60_000 - 4 * 60_000;
      const history = Array.from({ length: 250 }, (_, w) =>
        verdictBurst('newsletter', 10, (i) => ({ verdict: 'clean', at: new Date(windowStart - (w + 1) * 300_000 + i * 1000), sender: 'mailer@newsletter.example' })),
      ).flat();
      t.same((await api('POST', '/v1/verdicts', history)).body.ticketsOpened, [], 'ordinary traffic trips nothing');
      const storm = verdictBurst('newsletter', 300, (i) => ({
        verdict: i < 3 ? 'spam' : 'clean',
        at: new Date(windowStart + (i % 240) * 1000),
        sender: i % 2 ? 'promo@newsletter.example' : 'list@newsletter.example',
      }));
      const r = await api('POST', '/v1/verdicts', storm);
      t.equal(r.body.ticketsOpened.length, 1, 'the storm opens a ticket although almost nothing is spam');
      const tk = (await api('GET', `/v1/tickets/${r.body.ticketsOpened[0]}`)).body;
      t.match(tk, { rule: 'surge', severity: 'normal', state: 'notifying' });
      t.match(tk.evidence.surge, { volume: 300, baseline: 10, multiple: 30 });
      t.same(tk.evidence.topSenders.map((s: any) => s.sender).sort(), ['list@newsletter.example', 'promo@newsletter.example']);
    });

    t.test('a tenant re-enabled today that spams again is on probation: half the threshold trips a repeat ticket, suspended at once', async (t) => {
      await tenant('again');
      const first = (await api('POST', '/v1/verdicts', spamBurst('again', 60, { at: now }))).body.ticketsOpened[0];
      await api('POST', `/v1/tickets/${first}/suspend`, { reason: 'confirmed spam run' });
      const resolved = await api('POST', `/v1/tickets/${first}/resolve`, { note: 'password reset' });
      t.equal(resolved.status, 200);
      const probation = (await api('GET', '/v1/tenants/again')).body.probation;
      t.match(probation, { active: true });
      t.ok(new Date(probation.until).getTime() - Date.now() > 23 * 3600_000, 'for 24 hours by default');
      // Verdicts from before the reinstatement cannot trip again.
      t.same((await api('POST', '/v1/verdicts', [verdict({ tenantId: 'again', at: now })])).body.ticketsOpened, [], 'an old verdict does not re-trip');
      const later = new Date(Date.now() + 90_000);
      const r = await api('POST', '/v1/verdicts', spamBurst('again', 25, { at: later }));
      t.equal(r.body.ticketsOpened.length, 1, '25 spam (half of 50) trip during probation');
      const tk = (await api('GET', `/v1/tickets/${r.body.ticketsOpened[0]}`)).body;
      t.match(tk, { severity: 'repeat', state: 'suspended', outboundDisabled: true });
      t.ok(tk.probationUntil, 'the ticket shows when probation ends');
      t.equal((await api('GET', '/v1/tenants/again/outbound')).body.enabled, false);
    });

    t.test('a shadow policy records a shadow ticket and contacts nobody, suspends nothing', async (t) => {
      await tenant('trial', { mode: 'shadow' });
      const before = sink.messages.length;
      const r = await api('POST', '/v1/verdicts', spamBurst('trial', 60, { at: now }));
      const number = r.body.ticketsOpened[0];
      const tk = (await api('GET', `/v1/tickets/${number}`)).body;
      t.match(tk, { state: 'shadow', outboundDisabled: false, walking: false });
      t.same(tk.attempts, [], 'no call or email was planned');
      t.same(tk.enforcementEvents, [], 'no enforcement event');
      t.equal((await api('GET', '/v1/tenants/trial/outbound')).body.enabled, true);
      t.same((await api('GET', '/v1/tickets?state=shadow&tenantId=trial')).body.items.map((x: any) => x.number), [number], 'listed with the shadow tickets');
      t.same((await api('GET', '/v1/tickets?state=open&tenantId=trial')).body.items, [], 'not with the open ones');
      // A real ticket opened after the shadow one briefs its TAM at once: when that email has arrived, an
      // email the shadow ticket had sent on opening would have arrived too.
      await tenant('trial-real');
      const real = (await api('POST', '/v1/verdicts', spamBurst('trial-real', 60, { at: now }))).body.ticketsOpened[0];
      t.ok(real, 'the enforcing tenant has a ticket');
      await sink.waitFor((m) => (m.subject ?? '').includes(real));
      const since = sink.messages.slice(before);
      t.same(since.filter((m) => `${m.subject ?? ''} ${m.text ?? ''}`.includes(number)).map((m) => [m.envelopeTo, m.subject]), [], 'no email about the shadow ticket');
      t.equal((await api('POST', `/v1/tickets/${number}/dismiss`, { reason: 'tuning done' })).body.state, 'dismissed', 'an agent closes it');
    });
  });
}
