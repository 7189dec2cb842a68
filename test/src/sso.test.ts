// Single sign-on for the ticket UI (issue 15) against a real OpenID Connect provider (oidc-provider), in
// Chromium: an agent signs in through the provider and works a ticket under their own name; a person
// without a mapped role is refused with a page saying why; a session past its time limit returns to
// sign-in; a cross-site form POST with the session cookie but without the CSRF token is refused. With
// OIDC_SIGN_OUT_AT_PROVIDER, signing out ends the provider's session too (RP-initiated logout), so the
// next sign-in asks for the password again; a third installation, without it, signs out locally (204, no ID
// token kept) and its next sign-in goes straight through the provider.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import t from 'tap';
import { launchChromium, openPage } from './browser.js';
import { CONTACTS, NO_DIGESTS, client, freePort, prepareService, query, recordSecret, spamBurst } from './harness.js';
import { CLIENT_ID, CLIENT_SECRET, startOidcProvider } from './oidc-provider.js';

const CALLBACK = '/auth/oidc/callback';
const PEOPLE = {
  alice: { email: 'alice@example.com', name: 'Alice Agent', groups: ['staff', 'abuse-desk-agents'] },
  mallory: { email: 'mallory@example.com', name: 'Mallory Marketing', groups: ['staff', 'marketing'] },
};

/**
 * Signs in from the UI's sign-in button: the first time in a browser at the provider's own login and
 * consent pages (any password); `again`: the provider still knows the browser and sends it straight back.
 */
async function signInThroughProvider(page: Page, login: string, again = false) {
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  if (again) return;
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

t.test('single sign-on through an OpenID Connect provider, in Chromium', async (t) => {
  const oidcPort = await freePort();
  recordSecret(CLIENT_SECRET);
  const env = {
    OIDC_ISSUER_URL: `http://127.0.0.1:${oidcPort}`,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_SCOPES: 'openid email profile groups',
    OIDC_ROLE_CLAIM: 'groups',
    OIDC_ROLE_MAP: 'abuse-desk-admins=admin,abuse-desk-agents=agent',
    CALL_RING_SECONDS: '60',
    ...NO_DIGESTS,
  };
  const svc = await prepareService({ name: 'sso', arrangement: { engine: 'postgres', processes: 'one' }, env: { ...env, OIDC_SIGN_OUT_AT_PROVIDER: 'true' } });
  t.teardown(() => svc.stop());
  // A second installation whose sessions last six seconds, to see one end in the browser.
  const brief = await prepareService({ name: 'sso-brief', arrangement: { engine: 'pglite', processes: 'one' }, env: { ...env, SESSION_IDLE_SECONDS: '6', SESSION_MAX_SECONDS: '6' } });
  t.teardown(() => brief.stop());
  // A third with the default: sign-out ends only abuse-desk's session.
  const local = await prepareService({ name: 'sso-local', arrangement: { engine: 'postgres', processes: 'one' }, env });
  t.teardown(() => local.stop());
  const provider = await startOidcProvider({ port: oidcPort, redirectUris: [svc.baseUrl + CALLBACK, brief.baseUrl + CALLBACK, local.baseUrl + CALLBACK], postLogoutRedirectUris: [`${svc.baseUrl}/ui/`], people: PEOPLE });
  t.teardown(() => provider.close());
  await svc.start();
  await brief.start();
  await local.start();

  const api = client(svc.baseUrl);
  await api('PUT', '/v1/tenants/acme', { name: 'ACME Mail' });
  await api('PUT', '/v1/tenants/acme/contacts', CONTACTS);
  const number: string = (await api('POST', '/v1/verdicts', spamBurst('acme'))).body.ticketsOpened[0];
  const ticket = (await api('GET', `/v1/tickets/${number}`)).body;
  const browser = await launchChromium(t);

  await t.test('an agent signs in through the provider, lands on the page they asked for, works a ticket under their email, and signs out here and at the provider', async (t) => {
    const { page, errors } = await openPage(t, browser, 1280, [], [provider.issuer]);
    await page.goto(`${svc.baseUrl}/ui/tickets/${number}`);
    await signInThroughProvider(page, 'alice');
    await page.getByRole('heading', { name: new RegExp(number) }).waitFor();
    t.match(new URL(page.url()).pathname, `/ui/tickets/${number}`, 'back on the ticket page after sign-in');
    t.equal(await page.getByTestId('signed-in-as').textContent(), 'alice@example.com (agent)');
    t.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly');

    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByLabel('Note').fill('Called Alice at ACME; they are on it.');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Note added').waitFor();
    const events = (await api('GET', `/v1/tickets/${number}`)).body.events as { type: string; actor: string; reason: string | null }[];
    const note = events.find((e) => e.type === 'note');
    t.equal(note?.actor, 'agent:alice@example.com (sub alice)', 'the event names the person: email and subject');
    await page.getByRole('cell', { name: 'agent:alice@example.com (sub alice)' }).first().waitFor();
    t.pass('the ticket page shows who wrote the note');

    const cookies = await page.context().cookies(svc.baseUrl);
    const session = cookies.find((c) => c.name === 'abuse-desk-session');
    if (session) recordSecret(session.value); // no service log may hold it (scripts/check-log-secrets.mjs)
    t.ok(session?.httpOnly, 'HttpOnly');
    t.equal(session?.sameSite, 'Lax', 'SameSite=Lax');
    // The ID token kept for the sign-out: no service log may hold it either.
    const [kept] = await query<{ id_token: string | null }>(svc.databaseUrl!, 'select id_token from ui_sessions where ended_at is null');
    t.match(kept?.id_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the session keeps the ID token the provider issued (OIDC_SIGN_OUT_AT_PROVIDER)');
    if (kept?.id_token) recordSecret(kept.id_token);
    // OIDC_SIGN_OUT_AT_PROVIDER: the browser goes on to the provider's own sign-out page, with that ID token as hint.
    const [endSession] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(provider.issuer)), page.getByRole('button', { name: 'Sign out' }).click()]);
    const asked = new URL(endSession.url()).searchParams;
    t.equal(asked.get('id_token_hint'), kept?.id_token, 'id_token_hint is the session’s ID token');
    t.equal(asked.get('post_logout_redirect_uri'), `${svc.baseUrl}/ui/`, 'back to the UI afterwards');
    t.equal(asked.get('client_id'), CLIENT_ID);
    t.equal(asked.get('state'), 'signed-out');
    t.same(await query(svc.databaseUrl!, 'select id from ui_sessions where id_token is not null'), [], 'the ID token is gone from the database');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByText('Signed out. Your identity provider was asked to sign you out too.').waitFor();
    t.equal(page.url(), `${svc.baseUrl}/ui/`, 'the provider sent the browser back to the UI (the state dropped from the address)');
    const reused = await fetch(`${svc.baseUrl}/v1/tickets`, { headers: { cookie: `abuse-desk-session=${session!.value}` } });
    t.equal(reused.status, 401, 'the signed-out session cookie no longer works');
    // The provider forgot this browser: signing in again asks for the password, not straight through.
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
    await page.locator('input[name="password"]').waitFor();
    t.pass('the provider asks who is signing in again');
    t.same(errors, [], 'no console errors');
  });

  await t.test('a person whose groups grant no role is refused with a page that says why', async (t) => {
    const { page, errors } = await openPage(t, browser, 1280, [403], [provider.issuer]);
    await page.goto(`${svc.baseUrl}/ui/`);
    await signInThroughProvider(page, 'mallory');
    await page.getByRole('heading', { name: 'You have no role in abuse-desk' }).waitFor();
    const text = await page.locator('main').textContent();
    t.match(text, /mallory@example\.com/, 'names who signed in');
    t.match(text, /abuse-desk-agents/, 'names the groups that would grant a role');
    t.notOk((await page.context().cookies(svc.baseUrl)).some((c) => c.name === 'abuse-desk-session'), 'no session cookie');
    await page.goto(`${svc.baseUrl}/ui/`);
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).waitFor();
    t.pass('the UI still asks to sign in');
    t.same(errors, [], 'no console errors');
  });

  await t.test('a session past SESSION_MAX_SECONDS returns the UI to sign-in, which works again', async (t) => {
    const { page, errors } = await openPage(t, browser, 1280, [401], [provider.issuer]);
    await page.goto(`${brief.baseUrl}/ui/`);
    await signInThroughProvider(page, 'alice');
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    const signedInAt = Date.now();
    // The queue refreshes every five seconds; the first refresh after the time limit meets a 401.
    await page.getByText(/You were signed out: your session reached its time limit/).waitFor({ timeout: 30_000 });
    t.ok(Date.now() - signedInAt >= 5_000, 'not before the limit');
    await signInThroughProvider(page, 'alice', true);
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    t.pass('signed in again');
    t.same(errors, [], 'no console errors');
  });

  await t.test('a form on another site that posts to the API with the session cookie but no CSRF token is refused', async (t) => {
    const { page } = await openPage(t, browser, 1280, [403]);
    await page.goto(`${svc.baseUrl}/ui/`);
    await signInThroughProvider(page, 'alice');
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    // Another port is another origin but the same site: the browser sends the SameSite=Lax cookie with this
    // POST, so only the CSRF check stands between the form and the ticket.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form method="post" action="${svc.baseUrl}/v1/tickets/${ticket.id}/notes"><input name="text" value="forged by another site"><button>Claim your prize</button></form>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => evil.close(() => resolve())));
    await page.goto(`http://127.0.0.1:${(evil.address() as { port: number }).port}/`);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/notes')), page.getByRole('button', { name: 'Claim your prize' }).click()]);
    t.equal(response.status(), 403, 'refused');
    const problem = JSON.parse(await response.text());
    t.match(problem.detail, /X-CSRF-Token/, 'refused for the missing CSRF token, so the session cookie was sent and recognised');
    const events = (await api('GET', `/v1/tickets/${number}`)).body.events as { reason: string | null; data: unknown }[];
    t.notOk(JSON.stringify(events).includes('forged by another site'), 'no note was added');
  });

  await t.test('without OIDC_SIGN_OUT_AT_PROVIDER sign-out is local: no ID token is kept, and the next sign-in goes straight through the provider', async (t) => {
    const { page, errors } = await openPage(t, browser, 1280, [], [provider.issuer]);
    await page.goto(`${local.baseUrl}/ui/`);
    await signInThroughProvider(page, 'alice');
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    const sessions = await query<{ id_token: string | null }>(local.databaseUrl!, 'select id_token from ui_sessions');
    t.equal(sessions.length, 1, 'signed in');
    t.equal(sessions[0]?.id_token, null, 'no ID token stored');
    const [out] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/v1/session') && r.request().method() === 'DELETE'), page.getByRole('button', { name: 'Sign out' }).click()]);
    t.equal(out.status(), 204, 'sign-out answers 204');
    await page.getByText('Signed out.').waitFor();
    t.ok(page.url().startsWith(local.baseUrl), 'the browser stays with abuse-desk');
    await signInThroughProvider(page, 'alice', true);
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    t.pass('the provider still knew the browser: signed in again without a password');
    t.same(errors, [], 'no console errors');
  });
});
