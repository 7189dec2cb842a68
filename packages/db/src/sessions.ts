// Ticket UI sessions and OpenID Connect sign-ins in progress (issue 15). The cookie carries a random token;
// only its hash is stored. Every api replica reads sessions from here on each request, so a sign-out or a
// revoked token ends a session everywhere at once.
import { lastSeenResolutionMs, sessionStanding } from '@abuse-desk/domain';
import type { PersonRole, SessionLimits } from '@abuse-desk/domain';
import type { Db } from './connect.js';
import { hashToken, newSecret, noteTokenUse, recordAudit } from './tokens.js';

export interface NewUiSession {
  method: 'oidc' | 'token';
  role: PersonRole;
  subject: string | null;
  email: string | null;
  name: string;
  actor: string;
  apiTokenId: string | null;
  /** The provider's ID token, kept for RP-initiated logout (OIDC_SIGN_OUT_AT_PROVIDER). */
  idToken?: string | null;
}

export interface UiSession extends NewUiSession {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
}

/** Sessions are kept this long after they could last have been used (the audit trail keeps sign-ins for good). */
const KEEP_ENDED_MS = 7 * 86_400_000;

/** Starts a session and returns the token for the cookie (shown once, stored hashed). */
export async function createUiSession(db: Db, s: NewUiSession, limits: SessionLimits, now: Date): Promise<{ id: string; token: string }> {
  const token = newSecret('');
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('ui_sessions')
      .values({ token_hash: hashToken(token), method: s.method, role: s.role, subject: s.subject, email: s.email, name: s.name, actor: s.actor, api_token_id: s.apiTokenId, created_at: now, last_seen_at: now, id_token: s.idToken ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(trx, { at: now, actor: s.actor, type: 'session.started', subject: `session:${row.id}`, data: { method: s.method, role: s.role, email: s.email } });
    // Old sessions go as new ones come: no separate sweeper for a table that grows by one row per sign-in.
    await trx
      .deleteFrom('ui_sessions')
      .where('created_at', '<', new Date(now.getTime() - limits.maxSeconds * 1000 - KEEP_ENDED_MS))
      .execute();
    // An ID token is kept only while its session may still be signed out; sessions that ended by a timeout lose it
    // here. The two conditions are the domain's sessionStanding (idle, expired) as a set-based WHERE.
    await trx
      .updateTable('ui_sessions')
      .set({ id_token: null })
      .where('id_token', 'is not', null)
      .where((eb) => eb.or([eb('created_at', '<', new Date(now.getTime() - limits.maxSeconds * 1000)), eb('last_seen_at', '<', new Date(now.getTime() - limits.idleSeconds * 1000))]))
      .execute();
    return { id: row.id, token };
  });
}

export type SessionLookup = { standing: 'active'; session: UiSession } | { standing: 'idle' | 'expired' | 'ended' | 'unknown' };

/**
 * The session a cookie names, and whether it may be used at `now`. A token sign-in's session ends with its
 * API token (revoked or expired). An active session's last use is written at most every
 * `lastSeenResolutionMs` — often enough to judge the idle timeout, not a write per request.
 */
export async function findUiSession(db: Db, token: string, limits: SessionLimits, now: Date): Promise<SessionLookup> {
  const row = await db
    .selectFrom('ui_sessions as s')
    .leftJoin('api_tokens as t', 't.id', 's.api_token_id')
    .select(['s.id', 's.method', 's.role', 's.subject', 's.email', 's.name', 's.actor', 's.api_token_id', 's.created_at', 's.last_seen_at', 's.ended_at', 't.revoked_at', 't.expires_at', 't.last_used_at'])
    .where('s.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) return { standing: 'unknown' };
  if (row.ended_at) return { standing: 'ended' };
  if (row.api_token_id && (row.revoked_at || (row.expires_at && row.expires_at <= now))) return { standing: 'ended' };
  const standing = sessionStanding({ createdAt: row.created_at, lastSeenAt: row.last_seen_at }, limits, now);
  if (standing !== 'active') return { standing };
  let lastSeenAt = row.last_seen_at;
  if (now.getTime() - lastSeenAt.getTime() >= lastSeenResolutionMs(limits)) {
    await db.updateTable('ui_sessions').set({ last_seen_at: now }).where('id', '=', row.id).where('ended_at', 'is', null).execute();
    lastSeenAt = now;
  }
  // A session signed in with a token is that token in use: the admin's token list shows it.
  if (row.api_token_id) await noteTokenUse(db, row.api_token_id, row.last_used_at, now);
  return {
    standing: 'active',
    session: {
      id: row.id,
      method: row.method,
      role: row.role,
      subject: row.subject,
      email: row.email,
      name: row.name,
      actor: row.actor,
      apiTokenId: row.api_token_id,
      createdAt: row.created_at,
      lastSeenAt,
    },
  };
}

/** Ends a session (sign-out; idempotent) and hands back the ID token it kept for the provider's sign-out, clearing it. */
export async function endUiSession(db: Db, id: string, actor: string, now: Date): Promise<{ idToken: string | null }> {
  return db.transaction().execute(async (trx) => {
    const kept = await trx.selectFrom('ui_sessions').select('id_token').where('id', '=', id).where('ended_at', 'is', null).forUpdate().executeTakeFirst();
    if (!kept) return { idToken: null };
    await trx.updateTable('ui_sessions').set({ ended_at: now, id_token: null }).where('id', '=', id).execute();
    await recordAudit(trx, { at: now, actor, type: 'session.ended', subject: `session:${id}` });
    return { idToken: kept.id_token };
  });
}

/** How long a person may take at the identity provider between our redirect and its callback. */
export const SIGN_IN_REQUEST_MS = 10 * 60_000;

/** Keeps an OIDC sign-in's PKCE verifier and nonce under the hash of its state until the callback. */
export async function saveSignInRequest(db: Db, r: { state: string; codeVerifier: string; nonce: string; returnTo: string }, now: Date): Promise<void> {
  await db.deleteFrom('sign_in_requests').where('created_at', '<', new Date(now.getTime() - SIGN_IN_REQUEST_MS)).execute();
  await db.insertInto('sign_in_requests').values({ state_hash: hashToken(r.state), code_verifier: r.codeVerifier, nonce: r.nonce, return_to: r.returnTo, created_at: now }).execute();
}

/** Takes (once: it is deleted) the sign-in a callback's state belongs to, if it is not too old. */
export async function takeSignInRequest(db: Db, state: string, now: Date): Promise<{ codeVerifier: string; nonce: string; returnTo: string } | undefined> {
  const row = await db.deleteFrom('sign_in_requests').where('state_hash', '=', hashToken(state)).returning(['code_verifier', 'nonce', 'return_to', 'created_at']).executeTakeFirst();
  if (!row || row.created_at.getTime() < now.getTime() - SIGN_IN_REQUEST_MS) return undefined;
  return { codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to };
}
