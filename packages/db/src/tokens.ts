// API bearer tokens and ticket resolution tokens: random, shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiRole, TokenInfo } from '@abuse-desk/contracts';
import type { Db } from './connect.js';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** 256 random bits, URL-safe. */
export const newSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');

export interface TokenOptions {
  /** Who creates it (`admin:<name>`); recorded on the token and in the audit trail. */
  createdBy?: string;
  expiresAt?: Date | null;
  now?: Date;
}

/** Records who did what to a token (or another non-ticket subject) in the audit trail. */
export async function recordAudit(db: Db, e: { at: Date; actor: string; type: string; subject: string; data?: Record<string, unknown> }) {
  await db.insertInto('audit_events').values({ at: e.at, actor: e.actor, type: e.type, subject: e.subject, data: e.data ? JSON.stringify(e.data) : null }).execute();
}

export async function createApiToken(db: Db, name: string, role: ApiRole, o: TokenOptions = {}): Promise<{ id: string; token: string }> {
  const token = newSecret('adk_');
  const now = o.now ?? new Date();
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('api_tokens')
      .values({ name, role, token_hash: hashToken(token), created_at: now, created_by: o.createdBy ?? null, expires_at: o.expiresAt ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (o.createdBy) await recordAudit(trx, { at: now, actor: o.createdBy, type: 'token.created', subject: `token:${row.id}`, data: { name, role, expiresAt: o.expiresAt?.toISOString() ?? null } });
    return { id: row.id, token };
  });
}

/** How often a token's last use is written: at most once a minute, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** The token's principal while it is neither revoked nor expired; notes its use at most once a minute. */
export async function findApiToken(db: Db, token: string, now = new Date()) {
  const row = await db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'last_used_at'])
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  if (!row) return undefined;
  await noteTokenUse(db, row.id, row.last_used_at, now);
  return { id: row.id, name: row.name, role: row.role };
}

/** A token was used (as a bearer token, or through a UI session signed in with it): written at most once a minute. */
export async function noteTokenUse(db: Db, id: string, lastUsedAt: Date | null, now: Date) {
  if (lastUsedAt && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

/** Every token as an admin sees it, newest first (revoked and expired ones too: the list is also the record). */
export async function listApiTokens(db: Db, now: Date): Promise<TokenInfo[]> {
  const rows = await db.selectFrom('api_tokens').select(['id', 'name', 'role', 'created_at', 'created_by', 'last_used_at', 'expires_at', 'revoked_at']).orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    expiresAt: r.expires_at?.toISOString() ?? null,
    revokedAt: r.revoked_at?.toISOString() ?? null,
    active: !r.revoked_at && (!r.expires_at || r.expires_at > now),
  }));
}

/** Revokes a token at once (every api process reads tokens from the database on each request). */
export async function revokeApiToken(db: Db, id: string, actor: string, now = new Date()): Promise<'revoked' | 'already' | 'unknown'> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('api_tokens').select(['id', 'name', 'revoked_at']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) return 'unknown';
    if (row.revoked_at) return 'already';
    await trx.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).execute();
    await recordAudit(trx, { at: now, actor, type: 'token.revoked', subject: `token:${id}`, data: { name: row.name } });
    return 'revoked';
  });
}

/**
 * Rotates a token: a new one with the same name, role and expiry, and the old one revoked, in one
 * transaction — how the bootstrap admin token (generated or ADMIN_TOKEN) is replaced without a restart.
 */
export async function rotateApiToken(db: Db, id: string, actor: string, now = new Date()): Promise<{ id: string; token: string; name: string; role: ApiRole; expiresAt: Date | null } | null> {
  return db.transaction().execute(async (trx) => {
    const old = await trx.selectFrom('api_tokens').select(['id', 'name', 'role', 'expires_at']).where('id', '=', id).where('revoked_at', 'is', null).forUpdate().executeTakeFirst();
    if (!old) return null;
    const token = newSecret('adk_');
    const row = await trx
      .insertInto('api_tokens')
      .values({ name: old.name, role: old.role, token_hash: hashToken(token), created_at: now, created_by: actor, expires_at: old.expires_at })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).execute();
    await recordAudit(trx, { at: now, actor, type: 'token.rotated', subject: `token:${id}`, data: { name: old.name, role: old.role, replacedBy: row.id } });
    return { id: row.id, token, name: old.name, role: old.role, expiresAt: old.expires_at };
  });
}

/**
 * Makes sure an admin can sign in. With ADMIN_TOKEN, that token is (re)registered; without it, a token is
 * generated at the first start only and returned so the caller prints it once.
 */
export async function ensureAdminToken(db: Db, configured: string | undefined): Promise<{ generated: string | null; configuredRevoked?: boolean }> {
  if (configured) {
    // An ADMIN_TOKEN an admin revoked or rotated (through the API, without a restart) stays revoked, and the
    // tokens that replaced it stay valid: the old environment value must not undo a rotation.
    const known = await db.selectFrom('api_tokens').select('revoked_at').where('token_hash', '=', hashToken(configured)).executeTakeFirst();
    if (known?.revoked_at) return { generated: null, configuredRevoked: true };
    // A changed ADMIN_TOKEN replaces the previous one: the old value stops working.
    await db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('name', '=', 'ADMIN_TOKEN')
      .where('token_hash', '<>', hashToken(configured))
      .where('revoked_at', 'is', null)
      .execute();
    await db
      .insertInto('api_tokens')
      .values({ name: 'ADMIN_TOKEN', role: 'admin', token_hash: hashToken(configured) })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
    return { generated: null };
  }
  return db.transaction().execute(async (trx) => {
    // Serialise concurrent first starts so only one of them generates a token.
    await trx.selectFrom('settings').select('key').where('key', '=', 'admin_bootstrap').forUpdate().execute();
    const existing = await trx.selectFrom('api_tokens').select('id').where('role', '=', 'admin').where('revoked_at', 'is', null).executeTakeFirst();
    if (existing) return { generated: null };
    const inserted = await trx
      .insertInto('settings')
      .values({ key: 'admin_bootstrap', value: JSON.stringify({ at: new Date().toISOString() }), updated_by: 'system' })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!inserted) return { generated: null };
    const token = newSecret('adk_');
    await trx.insertInto('api_tokens').values({ name: 'generated admin', role: 'admin', token_hash: hashToken(token) }).execute();
    return { generated: token };
  });
}
