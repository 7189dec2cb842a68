// The whole lifecycle end to end (issue 2's "done when"): on PGlite and PostgreSQL, in one process and as
// four role processes — the suspension path and the engaged path, with emails read back from a real
// SMTP server.
import { startSmtpSink, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { ARRANGEMENTS, CONTACTS, client, label, prepareService, spamBurst } from './harness.js';

const tokenIn = (text: string) => /\/resolve\/([A-Za-z0-9_-]{20,})/.exec(text)?.[1];

for (const arrangement of ARRANGEMENTS) {
  t.test(`${label(arrangement)}: walk exhausted → deadline → suspended → resolution → resolved → re-enabled`, async (t) => {
    const sink = await startSmtpSink();
    t.teardown(() => sink.close());
    const svc = await prepareService({
      name: `suspension-${arrangement.engine}-${arrangement.processes}`,
      arrangement,
      env: { SMTP_URL: sink.url, EMAIL_FROM: 'abuse-desk <abuse@platform.example>', RESOLUTION_TIMEOUT_SECONDS: '3', CALL_RING_SECONDS: '1' },
    });
    t.teardown(() => svc.stop());
    await svc.start();
    const api = client(svc.baseUrl);

    t.equal((await api('PUT', '/v1/tenants/acme', { name: 'ACME Mail' })).status, 200);
    const contacts = await api('PUT', '/v1/tenants/acme/contacts', CONTACTS);
    t.equal(contacts.status, 200);
    const ingest = await api('POST', '/v1/verdicts', spamBurst('acme'));
    t.equal(ingest.status, 200);
    t.equal(ingest.body.accepted, 80);
    t.equal(ingest.body.ticketsOpened.length, 1, 'the burst opens one ticket');
    const number: string = ingest.body.ticketsOpened[0];
    t.match(number, /^ABU-\d{6}$/);

    const suspended = await waitUntil(
      async () => {
        const r = await api('GET', `/v1/tickets/${number}`);
        return r.body.state === 'suspended' ? r.body : null;
      },
      { timeoutMs: 60_000, message: `ticket ${number} was not suspended` },
    );
    const kinds = (kind: string) => suspended.attempts.filter((a: any) => a.kind === kind);
    t.same(kinds('call').map((a: any) => [a.contactName, a.outcome]), [['Alice Admin', 'no-answer'], ['Bob Backup', 'no-answer']], 'both contacts were called in order, once each');
    t.same(kinds('tam_briefing').map((a: any) => a.contactName), ['Tara TAM'], 'the TAM was briefed');
    t.same(kinds('followup').map((a: any) => a.contactName).sort(), ['Alice Admin', 'Bob Backup'], 'each unreached contact got one follow-up');
    t.same(kinds('final').map((a: any) => a.contactName).sort(), ['Alice Admin', 'Bob Backup', 'Tara TAM'], 'the final email went to all contacts');
    t.ok(suspended.events.some((e: any) => e.type === 'walk_exhausted'));
    t.ok(suspended.events.some((e: any) => e.type === 'deadline_passed' && e.toState === 'suspended'));
    t.equal(suspended.enforcementEvents.length, 1);
    t.equal(suspended.enforcementEvents[0].type, 'outbound.suspended');

    const outbound = await api('GET', '/v1/tenants/acme/outbound');
    t.same({ enabled: outbound.body.enabled, ticketNumber: outbound.body.ticketNumber }, { enabled: false, ticketNumber: number }, 'outbound mail is disabled');

    // Every email attempt reaches the SMTP server exactly once, to the right person.
    const notices = await waitUntil(async () => {
      const r = await api('GET', `/v1/tickets/${number}`);
      const email = r.body.attempts.filter((a: any) => a.channel === 'email');
      return email.every((a: any) => a.outcome === 'sent') && email.length >= 9 ? email : null;
    }, { message: 'not every email was sent' });
    await sink.waitFor(() => true, { count: notices.length });
    for (const a of notices) {
      const got = sink.messages.filter((m) => m.messageId === `<${a.id}@abuse-desk>`);
      t.equal(got.length, 1, `${a.kind} to ${a.contactName} arrived once`);
      t.same(got[0]?.envelopeTo, [a.address]);
      t.match(got[0]?.subject ?? '', number);
    }
    const final = sink.messages.find((m) => m.messageId === `<${kinds('final').find((a: any) => a.contactName === 'Alice Admin').id}@abuse-desk>`)!;
    t.match(final.text ?? '', /billing@acme\.example/, 'the final email names the top sender');
    const token = tokenIn(final.text ?? '');
    t.ok(token, 'the final email carries the resolution link');

    const page = await fetch(`${svc.baseUrl}/resolve/${token}`);
    t.equal(page.status, 200);
    const html = await page.text();
    t.match(html, number);
    t.match(html, /suspended/i);

    const wrong = await api('POST', '/v1/resolutions', { ticketNumber: number, token: 'x'.repeat(43), actionsTaken: 'We reset every password.' });
    t.equal(wrong.status, 404, 'a wrong token is refused');
    const submitted = await api('POST', '/v1/resolutions', { ticketNumber: number, token, actionsTaken: 'A compromised password was reset and the mailbox was cleaned.', contactName: 'Alice' });
    t.equal(submitted.status, 202);
    t.equal(submitted.body.state, 'resolution_submitted');

    const resolved = await api('POST', `/v1/tickets/${number}/resolve`, { note: 'Checked the logs, the spam stopped.' });
    t.equal(resolved.status, 200);
    t.equal(resolved.body.state, 'resolved');
    t.same(resolved.body.enforcementEvents.map((e: any) => e.type), ['outbound.suspended', 'outbound.reinstated']);
    t.equal((await api('GET', '/v1/tenants/acme/outbound')).body.enabled, true, 'outbound mail is re-enabled');
    const again = await api('POST', `/v1/tickets/${number}/resolve`, { note: 'twice' });
    t.equal(again.status, 409, 'a closed ticket refuses another resolve');
    t.equal(again.body.status, 409);

    await sink.waitFor((m) => /re-?enabled|resolved/i.test(m.subject ?? '') && m.envelopeTo.includes('alice@tenant.example'), { message: 'no reinstatement notice' } as never);
  });

  t.test(`${label(arrangement)}: contact reached by an agent → tenant resolves before the deadline → never suspended`, async (t) => {
    const sink = await startSmtpSink();
    t.teardown(() => sink.close());
    const svc = await prepareService({
      name: `engaged-${arrangement.engine}-${arrangement.processes}`,
      arrangement,
      // Alice's call rings for 6 s: the agent marks her reached while it rings, and when it rings out (well
      // before the 20 s deadline) the walk would call Bob and email Alice a follow-up, had it not stopped.
      // Both spans leave room for a slow, shared machine.
      env: { SMTP_URL: sink.url, RESOLUTION_TIMEOUT_SECONDS: '20', CALL_RING_SECONDS: '6' },
    });
    t.teardown(() => svc.stop());
    await svc.start();
    const admin = client(svc.baseUrl);
    await admin('PUT', '/v1/tenants/globex', { name: 'Globex' });
    const { body: list } = await admin('PUT', '/v1/tenants/globex/contacts', CONTACTS);
    const alice = list.contacts.find((c: any) => c.name === 'Alice Admin');
    const created = await admin('POST', '/v1/tokens', { name: 'dana', role: 'agent' });
    t.equal(created.status, 201);
    const agent = client(svc.baseUrl, created.body.token);

    t.equal((await agent('POST', '/v1/verdicts', spamBurst('globex'))).status, 403, 'an agent token may not ingest verdicts');
    const ingest = await admin('POST', '/v1/verdicts', spamBurst('globex'));
    const ticketNumber: string = ingest.body.ticketsOpened[0];
    t.ok(ticketNumber);
    const walkAttempts = (x: any) => x.attempts.filter((a: any) => ['call', 'followup', 'final'].includes(a.kind));
    await waitUntil(async () => walkAttempts((await agent('GET', `/v1/tickets/${ticketNumber}`)).body).some((a: any) => a.kind === 'call' && a.status === 'placed'), { message: "Alice's call was not placed" });

    const reached = await agent('POST', `/v1/tickets/${ticketNumber}/contact-reached`, { contactId: alice.id, note: 'Alice called back, she is on it.' });
    t.equal(reached.status, 200);
    t.equal(reached.body.state, 'engaged');
    const deadline = new Date(reached.body.deadlineAt).getTime();
    t.ok(deadline > Date.now(), 'a deadline runs');

    const confirmation = (await sink.waitFor((m) => m.envelopeTo.includes('alice@tenant.example') && /acknowledged|reached|confirm/i.test(`${m.subject} ${m.text}`), { message: 'no confirmation email' } as never))[0]!;
    const token = tokenIn(confirmation.text ?? '');
    t.ok(token, 'the confirmation carries the resolution link');

    // What the walk does after a call is planned in the transaction that ends it: once Alice's call has rung
    // out, a call to Bob or a follow-up would be there. There is nothing.
    const settled = await waitUntil(async () => {
      const x = (await agent('GET', `/v1/tickets/${ticketNumber}`)).body;
      return walkAttempts(x).find((a: any) => a.kind === 'call' && a.contactName === 'Alice Admin')?.completedAt ? x : null;
    }, { timeoutMs: 30_000, message: "Alice's call never ended" });
    t.equal(settled.state, 'engaged', 'still engaged: nothing else has stopped the walk');
    t.same(walkAttempts(settled).map((a: any) => [a.kind, a.contactName]), [['call', 'Alice Admin']], 'the walk stopped at the first contact: no call to Bob, no follow-up');

    const submitted = await admin('POST', '/v1/resolutions', { ticketNumber, token, actionsTaken: 'Disabled the compromised account and rotated SMTP credentials.' });
    t.equal(submitted.status, 202);

    // Past the deadline the ticket still waits for the agent: a submitted resolution stops the clock.
    await waitUntil(async () => Date.now() > deadline + 2000, { timeoutMs: 60_000, message: 'clock' });
    const waiting = await agent('GET', `/v1/tickets/${ticketNumber}`);
    t.equal(waiting.body.state, 'resolution_submitted');
    t.match(waiting.body.resolution.actionsTaken, /rotated SMTP credentials/);

    const resolved = await agent('POST', `/v1/tickets/${ticketNumber}/resolve`, { note: 'Verified.' });
    t.equal(resolved.body.state, 'resolved');
    t.same(resolved.body.enforcementEvents, [], 'no enforcement event was ever emitted');
    t.notOk(resolved.body.events.some((e: any) => e.toState === 'suspended'), 'never suspended');
    t.equal((await agent('GET', '/v1/tenants/globex/outbound')).body.enabled, true);
  });
}
