// The ticket UI's cookie session (issue 15): the cookie's name and flags, the CSRF token that goes with it,
// and the check that lets a request with the cookie act as its signed-in person.
import { createHash, timingSafeEqual } from 'node:crypto';
import { findUiSession } from '@abuse-desk/db';
import type { Db, UiSession } from '@abuse-desk/db';
import type { SessionLimits } from '@abuse-desk/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from './problems.js';

export interface UiSessionSettings {
  limits: SessionLimits;
  /** `Secure` cookies (and the `__Host-` name) when PUBLIC_BASE_URL is https. */
  secure: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    uiSessions: UiSessionSettings;
  }
}

/** `__Host-` binds the cookie to this host and path / with Secure: only possible over https. */
export const sessionCookieName = (s: UiSessionSettings) => (s.secure ? '__Host-abuse-desk-session' : 'abuse-desk-session');

/** The OIDC sign-in's state, bound to the browser that started it (refuses sign-in CSRF). */
export const signInCookieName = (s: UiSessionSettings) => (s.secure ? '__Secure-abuse-desk-sign-in' : 'abuse-desk-sign-in');

/**
 * A browser-session cookie (no Max-Age): gone when the browser closes, and while it is open the server
 * judges the idle and absolute limits — so a request after them still says why it is refused.
 */
export function setSessionCookie(reply: FastifyReply, s: UiSessionSettings, token: string) {
  reply.setCookie(sessionCookieName(s), token, { path: '/', httpOnly: true, sameSite: 'lax', secure: s.secure });
}

export function clearSessionCookie(reply: FastifyReply, s: UiSessionSettings) {
  reply.clearCookie(sessionCookieName(s), { path: '/', httpOnly: true, sameSite: 'lax', secure: s.secure });
}

/**
 * The CSRF token of a session: derived from the cookie's secret value, so it needs no storage, and a page of
 * another origin can neither read it (the cookie is HttpOnly, the session reply is same-origin JSON) nor guess it.
 */
export const csrfTokenOf = (sessionToken: string) => createHash('sha256').update(`csrf:${sessionToken}`).digest('base64url');

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const ENDED: Record<string, string> = {
  idle: 'your session ended after a time without use: sign in again',
  expired: 'your session reached its time limit: sign in again',
  ended: 'your session was signed out or its token revoked: sign in again',
  unknown: 'your session is not known: sign in again',
};

/**
 * The signed-in session a request's cookie names, or null when it carries none; a stale session → 401, a
 * request that changes something without the session's CSRF token (in `X-CSRF-Token`) → 403.
 */
export async function sessionOfRequest(db: Db, request: FastifyRequest): Promise<{ session: UiSession; token: string } | null> {
  const settings = request.server.uiSessions;
  const token = request.cookies[sessionCookieName(settings)];
  if (!token) return null;
  const found = await findUiSession(db, token, settings.limits, request.server.clock.now());
  if (found.standing !== 'active') throw new Problem(401, 'Unauthorized', ENDED[found.standing]!);
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    const expected = Buffer.from(csrfTokenOf(token));
    if (typeof sent !== 'string' || Buffer.byteLength(sent) !== expected.length || !timingSafeEqual(Buffer.from(sent), expected)) {
      throw new Problem(403, 'Forbidden', 'a request with the session cookie that changes something must carry the session\u2019s X-CSRF-Token header (cross-site requests are refused)');
    }
  }
  return { session: found.session, token };
}
