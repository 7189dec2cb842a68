// API bearer tokens and ticket resolution tokens: random, shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiRole } from '@abuse-desk/contracts';
import type { Db } from './connect.js';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** 256 random bits, URL-safe. */
export const newSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');

export async function createApiToken(db: Db, name: string, role: ApiRole): Promise<{ id: string; token: string }> {
  const token = newSecret('adk_');
  const row = await db.insertInto('api_tokens').values({ name, role, token_hash: hashToken(token) }).returning('id').executeTakeFirstOrThrow();
  return { id: row.id, token };
}

export async function findApiToken(db: Db, token: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role'])
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Makes sure an admin can sign in. With ADMIN_TOKEN, that token is (re)registered; without it, a token is
 * generated at the first start only and returned so the caller prints it once.
 */
export async function ensureAdminToken(db: Db, configured: string | undefined): Promise<{ generated: string | null }> {
  if (configured) {
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
