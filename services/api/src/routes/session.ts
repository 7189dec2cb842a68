// Sign-in to the ticket UI (issue 15). With OIDC settings: the authorization code flow with PKCE through
// the identity provider (/auth/oidc/login → provider → /auth/oidc/callback); without them: an API token,
// posted once and exchanged for the same kind of session. Either way the browser holds only an HttpOnly
// session cookie, never a bearer token; /v1/session says who is signed in and gives the CSRF token.
import { SessionInfo, SignOutAnswer, TokenSignInBody, problemResponses } from '@abuse-desk/contracts';
import { createUiSession, endUiSession, findApiToken, findUiSession, saveSignInRequest, takeSignInRequest } from '@abuse-desk/db';
import type { UiSession } from '@abuse-desk/db';
import { personActor, safeReturnPath } from '@abuse-desk/domain';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { OidcSignIn } from '../oidc.js';
import { Problem } from '../problems.js';
import { RateLimiter, refusal } from '../rate-limit.js';
import { clearSessionCookie, csrfTokenOf, sessionCookieName, sessionOfRequest, setSessionCookie, signInCookieName } from '../ui-session.js';
import { escapeHtml, messagePage } from './html.js';

const LOGIN_PATH = '/auth/oidc/login';
/** The state the provider hands back to /ui/ after its sign-out, so the UI can say the person is signed out there too. */
const SIGNED_OUT_STATE = 'signed-out';

export const sessionRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { db, config } = deps;
  const settings = app.uiSessions;
  const oidc = config.oidc ? new OidcSignIn(config.oidc, config.publicBaseUrl) : null;
  const method = oidc ? ('oidc' as const) : ('token' as const);
  // Each sign-in start stores its PKCE verifier for ten minutes: a client address may start 30 a minute.
  const starts = new RateLimiter(30, 60_000);
  const signInCookie = { path: '/auth/oidc/', httpOnly: true, sameSite: 'lax' as const, secure: settings.secure };

  const info = (s: UiSession, token: string): SessionInfo => ({
    signedIn: true,
    method: s.method,
    name: s.name,
    email: s.email,
    role: s.role,
    csrfToken: csrfTokenOf(token),
    idleExpiresAt: new Date(s.lastSeenAt.getTime() + settings.limits.idleSeconds * 1000).toISOString(),
    expiresAt: new Date(s.createdAt.getTime() + settings.limits.maxSeconds * 1000).toISOString(),
  });

  app.get(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        operationId: 'getSession',
        summary: 'Who is signed in to the ticket UI in this browser, and the CSRF token for changes',
        security: [],
        response: { 200: SessionInfo },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const token = request.cookies[sessionCookieName(settings)];
      const found = token ? await findUiSession(db, token, settings.limits, deps.clock.now()) : null;
      if (found?.standing === 'active') return info(found.session, token!);
      if (token) clearSessionCookie(reply, settings);
      return { signedIn: false as const, method, signInUrl: oidc ? LOGIN_PATH : null };
    },
  );

  app.post(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        operationId: 'signInWithToken',
        summary: 'Sign in to the ticket UI with an agent or admin API token (only where no identity provider is configured)',
        security: [],
        body: TokenSignInBody,
        response: { 200: SessionInfo, ...problemResponses(400, 401, 403, 415) },
      },
    },
    async (request, reply) => {
      if (oidc) throw new Problem(403, 'Forbidden', `this installation signs people in with its identity provider: go to ${LOGIN_PATH}`);
      // JSON only: a form on another site could otherwise sign this browser in as someone else (sign-in CSRF);
      // a cross-site JSON POST needs a CORS preflight, which this api never grants.
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) throw new Problem(415, 'Unsupported Media Type', 'send the token as JSON: {"token": "…"}');
      const now = deps.clock.now();
      const token = await findApiToken(db, request.body.token, now);
      if (!token) throw new Problem(401, 'Unauthorized', 'the token is unknown, revoked or expired');
      if (token.role === 'ingest') throw new Problem(403, 'Forbidden', 'an ingest token cannot sign in to the ticket UI: use an agent or admin token');
      const session = { method: 'token' as const, role: token.role, subject: null, email: null, name: token.name, actor: `${token.role}:${token.name}`, apiTokenId: token.id };
      const created = await createUiSession(db, session, settings.limits, now);
      setSessionCookie(reply, settings, created.token);
      request.log.info({ sessionId: created.id, method: 'token', tokenId: token.id }, 'session.started');
      reply.header('cache-control', 'no-store');
      return info({ ...session, id: created.id, createdAt: now, lastSeenAt: now }, created.token);
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        operationId: 'signOut',
        summary: 'Sign out: ends the session everywhere (needs the X-CSRF-Token header)',
        description:
          'Answers 204. With OIDC_SIGN_OUT_AT_PROVIDER and a session started at the identity provider it answers 200 with the provider\u2019s end-session URL instead: the browser goes there so the provider signs the person out too, and comes back to /ui/.',
        security: [],
        response: { 200: SignOutAnswer, 204: z.null(), ...problemResponses(403) },
      },
    },
    async (request, reply) => {
      // A session that already ended needs no CSRF token to be forgotten; a live one does (no cross-site sign-out).
      let found: Awaited<ReturnType<typeof sessionOfRequest>> = null;
      try {
        found = await sessionOfRequest(db, request);
      } catch (err) {
        if (!(err instanceof Problem) || err.status !== 401) throw err;
      }
      clearSessionCookie(reply, settings);
      if (!found) return reply.code(204).send(null);
      const { idToken } = await endUiSession(db, found.session.id, found.session.actor, deps.clock.now());
      request.log.info({ sessionId: found.session.id }, 'session.ended');
      if (oidc?.settings.signOutAtProvider && found.session.method === 'oidc') {
        // The session here is over whatever happens next; the provider's is ended by sending the browser there.
        try {
          const url = await oidc.signOutUrl(idToken, `${config.publicBaseUrl}/ui/`, SIGNED_OUT_STATE);
          if (url) return reply.code(200).header('cache-control', 'no-store').send({ signOutUrl: url.href });
          request.log.warn({ issuer: oidc.settings.issuerUrl }, 'oidc.sign_out.no_end_session_endpoint');
        } catch (err) {
          request.log.warn({ err, issuer: oidc.settings.issuerUrl }, 'oidc.sign_out.discovery_failed');
        }
      }
      return reply.code(204).send(null);
    },
  );

  const page = (reply: FastifyReply, code: number, title: string, text: string) =>
    reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(messagePage(title, text));

  app.get('/auth/oidc/login', { schema: { hide: true, querystring: z.object({ returnTo: z.string().max(2000).optional() }) } }, async (request, reply) => {
    if (!oidc) return page(reply, 404, 'Single sign-on is not configured', 'This installation signs in with an API token on the <a href="/ui/">ticket UI</a>.');
    const wait = refusal(reply, deps.clock.now().getTime(), [starts, `ip:${request.ip}`]);
    if (wait !== null) return page(reply, 429, 'Too many sign-ins', `Too many sign-ins were started from your address. Try again in ${wait} s.`);
    let start;
    try {
      start = await oidc.start();
    } catch (err) {
      request.log.error({ err, issuer: oidc.settings.issuerUrl }, 'oidc.discovery.failed');
      return page(reply, 502, 'The identity provider cannot be reached', 'abuse-desk could not read the identity provider\u2019s configuration. Try again in a minute; if it persists, tell the administrator (the log says why).');
    }
    await saveSignInRequest(db, { state: start.state, codeVerifier: start.codeVerifier, nonce: start.nonce, returnTo: safeReturnPath(request.query.returnTo) }, deps.clock.now());
    reply.setCookie(signInCookieName(settings), start.state, { ...signInCookie, maxAge: 600 });
    return reply.header('cache-control', 'no-store').redirect(start.url.href);
  });

  app.get(
    '/auth/oidc/callback',
    { schema: { hide: true, querystring: z.object({ state: z.string().max(2000).optional(), error: z.string().max(200).optional(), error_description: z.string().max(2000).optional() }).loose() } },
    async (request, reply) => {
      if (!oidc) return page(reply, 404, 'Single sign-on is not configured', 'This installation signs in with an API token on the <a href="/ui/">ticket UI</a>.');
      const again = `<a href="${LOGIN_PATH}">Sign in again</a>.`;
      const cookieState = request.cookies[signInCookieName(settings)];
      reply.clearCookie(signInCookieName(settings), signInCookie);
      const { state, error } = request.query;
      if (error) {
        request.log.warn({ error, description: request.query.error_description }, 'oidc.sign_in.refused_by_provider');
        return page(reply, 403, 'The identity provider did not sign you in', `It answered <code>${escapeHtml(error)}</code>. ${again}`);
      }
      // The state must be the one this browser was given: a callback started elsewhere (sign-in CSRF) is refused.
      if (!state || !cookieState || state !== cookieState) {
        request.log.warn({ hasCookie: !!cookieState }, 'oidc.sign_in.state_mismatch');
        return page(reply, 400, 'This sign-in cannot be finished', `It was started in another browser or tab, or took longer than ten minutes. ${again}`);
      }
      const now = deps.clock.now();
      const pending = await takeSignInRequest(db, state, now);
      if (!pending) return page(reply, 400, 'This sign-in cannot be finished', `It was already used or took longer than ten minutes. ${again}`);
      let person;
      try {
        // The callback URL as the provider sent it, rebuilt on PUBLIC_BASE_URL (never the Host header).
        const callbackUrl = new URL(oidc.redirectUri);
        callbackUrl.search = new URL(request.url, 'http://unused').search;
        person = await oidc.finish(callbackUrl, { state, codeVerifier: pending.codeVerifier, nonce: pending.nonce });
      } catch (err) {
        request.log.warn({ err }, 'oidc.sign_in.failed');
        return page(reply, 502, 'Sign-in failed', `abuse-desk could not confirm your sign-in with the identity provider (the log says why). ${again}`);
      }
      const who = person.email ?? person.name ?? person.subject;
      if (!person.role) {
        request.log.warn({ subject: person.subject, email: person.email, claim: oidc.settings.roleClaim }, 'oidc.sign_in.no_role');
        const values = oidc.settings.roleMap.map((m) => `<code>${escapeHtml(m.value)}</code> (${m.role})`).join(', ');
        return page(
          reply,
          403,
          'You have no role in abuse-desk',
          `You signed in as <strong>${escapeHtml(who)}</strong>, but your account has none of the values that grant a role in its <code>${escapeHtml(oidc.settings.roleClaim)}</code> claim: ${values}. Ask your identity provider\u2019s administrator to add you to one of them, then <a href="${LOGIN_PATH}">sign in again</a>.`,
        );
      }
      const session = {
        method: 'oidc' as const,
        role: person.role,
        subject: person.subject,
        email: person.email,
        name: person.name ?? who,
        actor: personActor(person.role, person),
        apiTokenId: null,
        // Kept only to sign out at the provider, and only when that is asked for.
        idToken: oidc.settings.signOutAtProvider ? person.idToken : null,
      };
      const created = await createUiSession(db, session, settings.limits, now);
      setSessionCookie(reply, settings, created.token);
      request.log.info({ sessionId: created.id, method: 'oidc', subject: person.subject, role: person.role }, 'session.started');
      return reply.header('cache-control', 'no-store').redirect(pending.returnTo);
    },
  );
};
