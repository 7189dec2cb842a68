// The ticket UI and the tenant's resolution page in a real browser (issue #7): Debian's Chromium driven by
// playwright-core. Screenshots of the queue, the ticket page and the resolution page are saved to
// test-artifacts/screenshots; any console error fails the test.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startSmtpSink, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { launchChromium, openPage } from './browser.js';
import { ADMIN_TOKEN, CONTACTS, NO_DIGESTS, ROOT, client, prepareService, spamBurst } from './harness.js';

const SHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');

t.test('the agent UI and the tenant resolution page in Chromium', async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const svc = await prepareService({
    name: 'ui',
    arrangement: { engine: 'postgres', processes: 'one' },
    env: { SMTP_URL: sink.url, CALL_RING_SECONDS: '60', RESOLUTION_TIMEOUT_SECONDS: '3600', ...NO_DIGESTS },
  });
  t.teardown(() => svc.stop());
  await svc.start();
  const api = client(svc.baseUrl);
  await api('PUT', '/v1/tenants/acme', { name: 'ACME Mail' });
  await api('PUT', '/v1/tenants/acme/contacts', CONTACTS);
  const number: string = (await api('POST', '/v1/verdicts', spamBurst('acme'))).body.ticketsOpened[0];
  await api('PUT', '/v1/tenants/globex', { name: 'Globex' });
  await api('PUT', '/v1/tenants/globex/contacts', CONTACTS);
  const other: string = (await api('POST', '/v1/verdicts', spamBurst('globex'))).body.ticketsOpened[0];
  const agentToken = (await api('POST', '/v1/tokens', { name: 'dana', role: 'agent' })).body.token;

  const browser = await launchChromium(t);

  await t.test('an agent signs in, finds the ticket in the queue, sees the walk, records a contact as reached and resolves it; the queue follows', async (t) => {
    const { page, errors } = await openPage(t, browser, 1280, [401]);
    await page.goto(`${svc.baseUrl}/ui/`);
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not valid').waitFor();
    await page.getByLabel('API token').fill(agentToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    t.equal(await page.getByTestId('signed-in-as').textContent(), 'dana (agent)', 'the header names who is signed in');
    const kept = String(await page.evaluate('JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie'));
    t.notMatch(kept, agentToken, 'the token is kept nowhere a script can read');
    t.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly');
    const row = page.getByRole('link', { name: new RegExp(number) });
    await row.waitFor();
    t.ok(await page.getByRole('link', { name: new RegExp(other) }).isVisible(), 'both open tickets are listed');
    const callQueue = page.getByTestId('call-queue');
    await callQueue.waitFor();
    t.match(await callQueue.textContent(), /^(No calls waiting\.|\d+ calls? waiting to be placed \(oldest .+\), at 1 call a second\.)$/, 'the queue says how many calls are waiting');
    await page.screenshot({ path: path.join(SHOTS, 'queue.png'), fullPage: true });

    await row.click();
    await page.getByRole('heading', { name: new RegExp(number) }).waitFor();
    await page.getByRole('heading', { name: 'Contact walk' }).waitFor();
    await page.getByText('Alice Admin').first().waitFor();
    t.ok(await page.getByText(/TAM briefing/i).first().isVisible(), 'the walk shows the TAM briefing');
    await page.screenshot({ path: path.join(SHOTS, 'ticket.png'), fullPage: true });
    t.notOk(await page.getByRole('button', { name: 'Reject resolution' }).isVisible(), 'actions the state machine would refuse are not offered');

    await page.getByRole('button', { name: 'Contact reached' }).click();
    await page.getByLabel('Contact', { exact: true }).selectOption({ label: 'Alice Admin' });
    await page.getByLabel('Note').fill('Alice called back; she is cleaning the mailbox.');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitUntil(async () => (await api('GET', `/v1/tickets/${number}`)).body.state === 'engaged', { message: 'the contact was not recorded as reached' });
    await page.getByText(/engaged/i).first().waitFor();
    t.notOk(await page.getByRole('button', { name: 'Contact reached' }).isVisible(), 'no longer offered once engaged');

    await page.getByRole('button', { name: 'Suspend now' }).click();
    t.ok(await page.getByText('Quoted to the tenant’s contacts in the suspension notice.').isVisible(), 'the suspend form says its reason reaches the tenant');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByLabel('Note').fill('Spam stopped, password reset confirmed.');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitUntil(async () => (await api('GET', `/v1/tickets/${number}`)).body.state === 'resolved', { message: 'the ticket was not resolved' });
    await page.getByText(/resolved/i).first().waitFor();

    await page.goto(`${svc.baseUrl}/ui/`);
    await page.getByRole('link', { name: new RegExp(other) }).waitFor();
    await waitUntil(async () => !(await page.getByRole('link', { name: new RegExp(number) }).isVisible()), { timeoutMs: 15_000, message: 'the resolved ticket stayed in the open queue' });
    t.pass('the queue no longer lists the resolved ticket');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Signed out.').waitFor();
    await page.reload();
    await page.getByLabel('API token').waitFor();
    t.pass('after sign-out a reload shows the sign-in form');
    t.same(errors, [], 'no console errors');
  });

  await t.test('an admin edits a tenant’s contacts and sees a validation error by the bad phone number', async (t) => {
    const { page, errors } = await openPage(t, browser, 390, [400]);
    await page.goto(`${svc.baseUrl}/ui/tenants/globex`);
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Globex/ }).waitFor();
    await page.getByRole('button', { name: 'Add contact' }).click();
    const names = page.getByLabel('Name');
    const last = (await names.count()) - 1;
    await names.nth(last).fill('Carol Chief');
    await page.getByLabel('Phone').nth(last).fill('12345');
    await page.getByRole('button', { name: 'Save contacts' }).click();
    await page.getByText(/E\.164/).waitFor();
    t.equal((await api('GET', '/v1/tenants/globex')).body.contacts.length, CONTACTS.length, 'nothing was saved');
    await page.getByLabel('Phone').nth(last).fill('+14155550123');
    await page.getByRole('button', { name: 'Save contacts' }).click();
    await page.getByText('Contacts saved').waitFor();
    t.equal((await api('GET', '/v1/tenants/globex')).body.contacts.length, CONTACTS.length + 1, 'the new contact was saved');
    t.same(errors, [], 'no console errors');
  });

  await t.test('a tenant opens the resolution link from the email, submits the form and sees what happens next', async (t) => {
    const mail = (await sink.waitFor((m) => (m.subject ?? '').includes(other) && /\/resolve\//.test(m.text ?? ''), { message: 'no email with a link' } as never))[0]!;
    const link = /(http:\/\/\S+\/resolve\/[A-Za-z0-9_-]+)/.exec(mail.text ?? '')![1]!;
    const { page, errors } = await openPage(t, browser, 390);
    await page.goto(link);
    await page.getByRole('heading', { name: new RegExp(other) }).waitFor();
    t.ok(await page.getByText(/compromised/i).first().isVisible(), 'the usual causes are listed');
    await page.screenshot({ path: path.join(SHOTS, 'resolution.png'), fullPage: true });
    await page.getByLabel(/What did you find/).fill('An old WordPress contact form was abused; we removed it and reset all passwords.');
    await page.getByLabel('Your name').fill('Gina Globex');
    await page.getByRole('button', { name: 'Submit resolution' }).click();
    await page.getByText(/your fix was received/i).waitFor();
    t.equal((await api('GET', `/v1/tickets/${other}`)).body.state, 'resolution_submitted');
    t.same(errors, [], 'no console errors');
  });
});
