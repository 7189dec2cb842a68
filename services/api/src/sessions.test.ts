// The ticket UI's session (issue 15): a token sign-in becomes an HttpOnly cookie session; changes need the
// session's CSRF token; the session ends when idle, at its time limit, at sign-out and with its token.
// The OpenID Connect flow itself is tested against a real provider in Chromium (test/src/sso.test.ts).
import { createUiSession } from '@abuse-desk/db';
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import t from 'tap';
import { PROBLEM, eventCount, openTestApi, openTicket } from './test-app.js';
import type { TestApi } from './test-app.js';
import { csrfTokenOf } from './ui-session.js';

const IDLE = 600;
const MAX = 3600;

/** The cookie a reply set, as `name=value`, and its attributes. */
function setCookie(reply: { headers: Record<string, unknown> }, name: string) {
  const all = ([] as string[]).concat((reply.headers['set-cookie'] as string | string[] | undefined) ?? []);
  const line = all.find((c) => c.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...attrs] = line.split(/;\s*/);
  return { pair: pair!, value: pair!.slice(name.length + 1), attrs: attrs.map((a) => a.toLowerCase()) };
}

async function signIn(api: TestApi, token: string, cookieName = 'abuse-desk-session') {
  const r = await api.request('POST', '/v1/session', { as: null, body: { token } });
  const cookie = setCookie(r, cookieName);
  return { reply: r, cookie: cookie?.pair ?? '', csrf: r.body?.csrfToken as string };
}

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine, { SESSION_IDLE_SECONDS: String(IDLE), SESSION_MAX_SECONDS: String(MAX) });
    const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({ as: null, headers: { cookie, ...extra } });

    t.test('a token sign-in answers an HttpOnly, SameSite=Lax session cookie, never the token, and the session works the API', async (t) => {
      const { reply, cookie } = await signIn(api, api.tokens.agent);
      t.equal(reply.status, 200);
      t.match(reply.body, { signedIn: true, method: 'token', name: 'test agent', role: 'agent', email: null });
      t.notMatch(reply.text, api.tokens.agent, 'the reply does not echo the token');
      const attrs = setCookie(reply, 'abuse-desk-session')!.attrs;
      t.ok(attrs.includes('httponly'), 'HttpOnly');
      t.ok(attrs.includes('samesite=lax'), 'SameSite=Lax');
      t.notOk(attrs.includes('secure'), 'not Secure over http');
      t.ok(attrs.includes('path=/'));
      t.notOk(attrs.some((a) => a.startsWith('max-age') || a.startsWith('expires')), 'a browser-session cookie: gone when the browser closes');
      const tickets = await api.request('GET', '/v1/tickets', withCookie(cookie));
      t.equal(tickets.status, 200);
      const who = await api.request('GET', '/v1/session', withCookie(cookie));
      t.match(who.body, { signedIn: true, name: 'test agent', csrfToken: reply.body.csrfToken });
      t.equal(who.headers['cache-control'], 'no-store');
      const rows = await storedRows(api.db, 'ui_sessions', {});
      t.notOk(rows.some((r) => JSON.stringify(r).includes(setCookie(reply, 'abuse-desk-session')!.value)), 'only the hash of the cookie is stored');
    });

    t.test('a change sent with the cookie but without the CSRF token is refused and changes nothing', async (t) => {
      const ticket = await openTicket(api, 'csrf-co');
      const { cookie, csrf } = await signIn(api, api.tokens.agent);
      const before = await eventCount(api, ticket.id);
      for (const headers of [{} as Record<string, string>, { 'x-csrf-token': 'guess' }, { 'x-csrf-token': csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') }]) {
        const r = await api.request('POST', `/v1/tickets/${ticket.id}/notes`, { ...withCookie(cookie, headers), body: { text: 'from another site' } });
        t.equal(r.status, 403, `refused with ${JSON.stringify(headers)}`);
        t.match(r.contentType, PROBLEM);
        t.match(r.body.detail, /X-CSRF-Token/);
      }
      t.equal(await eventCount(api, ticket.id), before, 'no event was added');
      const ok = await api.request('POST', `/v1/tickets/${ticket.id}/notes`, { ...withCookie(cookie, { 'x-csrf-token': csrf }), body: { text: 'called them' } });
      t.equal(ok.status, 200);
      t.match(ok.body.events.at(-1), { actor: 'agent:test agent', type: 'note' });
    });

    t.test('a session unused for SESSION_IDLE_SECONDS ends; a busy one ends at SESSION_MAX_SECONDS', async (t) => {
      const idle = await signIn(api, api.tokens.agent);
      api.clock.advance((IDLE - 1) * 1000);
      t.equal((await api.request('GET', '/v1/tickets', withCookie(idle.cookie))).status, 200, 'used just before the idle limit');
      api.clock.advance((IDLE - 1) * 1000);
      t.equal((await api.request('GET', '/v1/tickets', withCookie(idle.cookie))).status, 200, 'each use restarts the idle time');
      api.clock.advance(IDLE * 1000);
      const gone = await api.request('GET', '/v1/tickets', withCookie(idle.cookie));
      t.equal(gone.status, 401);
      t.match(gone.body.detail, /without use/);
      const after = await api.request('GET', '/v1/session', withCookie(idle.cookie));
      t.match(after.body, { signedIn: false, method: 'token' });
      t.ok(setCookie(after, 'abuse-desk-session'), 'the stale cookie is cleared');

      const busy = await signIn(api, api.tokens.agent);
      for (let used = 0; used + IDLE / 2 < MAX; used += IDLE / 2) {
        api.clock.advance((IDLE / 2) * 1000);
        t.equal((await api.request('GET', '/v1/tickets', withCookie(busy.cookie))).status, 200);
      }
      api.clock.advance((IDLE / 2) * 1000);
      const expired = await api.request('GET', '/v1/tickets', withCookie(busy.cookie));
      t.equal(expired.status, 401, 'refused at the time limit although in use');
      t.match(expired.body.detail, /time limit/);
    });

    t.test('sign-out needs the CSRF token, then ends the session and clears the cookie', async (t) => {
      const { cookie, csrf } = await signIn(api, api.tokens.agent);
      t.equal((await api.request('DELETE', '/v1/session', withCookie(cookie))).status, 403, 'no cross-site sign-out');
      t.equal((await api.request('GET', '/v1/tickets', withCookie(cookie))).status, 200, 'still signed in');
      const out = await api.request('DELETE', '/v1/session', withCookie(cookie, { 'x-csrf-token': csrf }));
      t.equal(out.status, 204);
      t.match(setCookie(out, 'abuse-desk-session'), { value: '' }, 'the cookie is cleared');
      const refused = await api.request('GET', '/v1/tickets', withCookie(cookie));
      t.equal(refused.status, 401, 'the old cookie no longer works');
      t.match(refused.body.detail, /signed out/);
      const types = (await storedRows(api.db, 'audit_events', {})).filter((e) => String(e.subject).startsWith('session:')).map((e) => e.type);
      t.ok(types.includes('session.started') && types.includes('session.ended'), 'sign-in and sign-out are audit events');
    });

    t.test('a session signed in with a token marks that token as used, at most once a minute', async (t) => {
      const made = await api.request('POST', '/v1/tokens', { body: { name: 'frank', role: 'agent' } });
      const { cookie } = await signIn(api, made.body.token);
      const lastUsed = async () => (await api.request('GET', '/v1/tokens')).body.items.find((x: { id: string }) => x.id === made.body.id).lastUsedAt;
      const signedInAt = await lastUsed();
      t.ok(signedInAt, 'the sign-in used it');
      api.clock.advance(30_000);
      t.equal((await api.request('GET', '/v1/tickets', withCookie(cookie))).status, 200);
      t.equal(await lastUsed(), signedInAt, 'not written again within the minute');
      api.clock.advance(60_000);
      t.equal((await api.request('GET', '/v1/tickets', withCookie(cookie))).status, 200);
      t.equal(await lastUsed(), api.clock.now().toISOString(), 'the session’s use is the token’s last use');
    });

    t.test('revoking the token a session signed in with ends the session', async (t) => {
      const made = await api.request('POST', '/v1/tokens', { body: { name: 'erin', role: 'agent' } });
      const { cookie } = await signIn(api, made.body.token);
      t.equal((await api.request('GET', '/v1/tickets', withCookie(cookie))).status, 200);
      t.equal((await api.request('DELETE', `/v1/tokens/${made.body.id}`)).status, 204);
      t.equal((await api.request('GET', '/v1/tickets', withCookie(cookie))).status, 401);
    });

    t.test('an ingest token, an unknown one or a form post cannot sign in', async (t) => {
      const ingest = await api.request('POST', '/v1/session', { as: null, body: { token: api.tokens.ingest } });
      t.equal(ingest.status, 403);
      t.match(ingest.body.detail, /ingest/);
      t.notOk(setCookie(ingest, 'abuse-desk-session'));
      const unknown = await api.request('POST', '/v1/session', { as: null, body: { token: 'adk_nothing' } });
      t.equal(unknown.status, 401);
      const form = await api.request('POST', '/v1/session', { as: null, body: `token=${api.tokens.agent}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.equal(form.status, 415, 'a form post (what another site could send) cannot sign in');
      t.notOk(setCookie(form, 'abuse-desk-session'));
      const none = await api.request('GET', '/v1/session', { as: null });
      t.same(none.body, { signedIn: false, method: 'token', signInUrl: null });
    });

    t.test('an agent session cannot do what needs admin', async (t) => {
      const { cookie, csrf } = await signIn(api, api.tokens.agent);
      const r = await api.request('POST', '/v1/tokens', { ...withCookie(cookie, { 'x-csrf-token': csrf }), body: { name: 'x', role: 'admin' } });
      t.equal(r.status, 403);
    });
  });
}

t.test('over https the cookie is Secure and __Host- prefixed', async (t) => {
  const api = await openTestApi(t, 'pglite', { PUBLIC_BASE_URL: 'https://abuse.example' });
  const { reply, cookie } = await signIn(api, api.tokens.agent, '__Host-abuse-desk-session');
  const c = setCookie(reply, '__Host-abuse-desk-session');
  t.ok(c, 'the __Host- cookie is set');
  t.ok(c!.attrs.includes('secure'), 'Secure');
  t.equal((await api.request('GET', '/v1/tickets', { as: null, headers: { cookie } })).status, 200);
});

t.test('with an identity provider configured, token sign-in is off and the UI is sent to the provider', async (t) => {
  const api = await openTestApi(t, 'pglite', { OIDC_ISSUER_URL: 'http://127.0.0.1:9/unreachable', OIDC_CLIENT_ID: 'abuse-desk', OIDC_CLIENT_SECRET: 'not-used-here' });
  const who = await api.request('GET', '/v1/session', { as: null });
  t.same(who.body, { signedIn: false, method: 'oidc', signInUrl: '/auth/oidc/login' });
  const token = await api.request('POST', '/v1/session', { as: null, body: { token: api.tokens.agent } });
  t.equal(token.status, 403);
  t.match(token.body.detail, /identity provider/);
  t.equal((await api.request('GET', '/v1/tickets', { as: 'agent' })).status, 200, 'API tokens still work for API clients');
  const down = await api.request('GET', '/auth/oidc/login', { as: null });
  t.equal(down.status, 502, 'a provider that cannot be reached is said so');
  t.match(down.text, /identity provider cannot be reached/);
  const forged = await api.request('GET', '/auth/oidc/callback?code=abc&state=xyz', { as: null });
  t.equal(forged.status, 400, 'a callback this browser did not start is refused');
  t.match(forged.text, /cannot be finished/);
  t.equal((await storedRows(api.db, 'ui_sessions', {})).length, 0, 'no session was made');
  let last = 0;
  for (let i = 0; i < 30 && last !== 429; i++) last = (await api.request('GET', '/auth/oidc/login', { as: null })).status;
  t.equal(last, 429, 'one address may start 30 sign-ins a minute (each keeps a PKCE verifier for ten minutes)');
});

t.test('OIDC_SIGN_OUT_AT_PROVIDER with a provider that cannot be reached at sign-out: the session still ends here (204) and its ID token is gone', async (t) => {
  const api = await openTestApi(t, 'pglite', { OIDC_ISSUER_URL: 'http://127.0.0.1:9/unreachable', OIDC_CLIENT_ID: 'abuse-desk', OIDC_CLIENT_SECRET: 'not-used-here', OIDC_SIGN_OUT_AT_PROVIDER: 'true' });
  // A session as the callback makes one (the flow itself runs against a real provider in test/src/sso.test.ts).
  const person = { method: 'oidc' as const, role: 'agent' as const, subject: 'alice', email: 'alice@example.com', name: 'Alice', actor: 'agent:alice@example.com (sub alice)', apiTokenId: null, idToken: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' };
  const created = await createUiSession(api.db, person, { idleSeconds: 1800, maxSeconds: 43_200 }, new Date());
  const cookie = `abuse-desk-session=${created.token}`;
  t.equal((await api.request('DELETE', '/v1/session', { as: null, headers: { cookie } })).status, 403, 'the CSRF token is still needed');
  const out = await api.request('DELETE', '/v1/session', { as: null, headers: { cookie, 'x-csrf-token': csrfTokenOf(created.token) } });
  t.equal(out.status, 204, 'signed out here, without the provider');
  t.equal((await api.request('GET', '/v1/tickets', { as: null, headers: { cookie } })).status, 401, 'the cookie no longer works');
  t.match(await storedRows(api.db, 'ui_sessions', { id: created.id }), [{ id_token: null }], 'the ID token is not kept');
});
