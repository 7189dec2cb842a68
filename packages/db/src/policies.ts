// The default policy and per-tenant overrides (SPEC §5).
import { DEFAULT_POLICY, Policy } from '@abuse-desk/contracts';
import type { PolicyOverride } from '@abuse-desk/contracts';
import { effectivePolicy } from '@abuse-desk/domain';
import { sql } from 'kysely';
import type { Db } from './connect.js';
import { appendTenantEvent } from './ticket-store.js';

export async function getDefaultPolicy(db: Db): Promise<Policy> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', 'default_policy').executeTakeFirst();
  return row ? Policy.parse(row.value) : DEFAULT_POLICY;
}

export async function setDefaultPolicy(db: Db, policy: Policy, by: string, now: Date) {
  await db
    .insertInto('settings')
    .values({ key: 'default_policy', value: JSON.stringify(policy), updated_by: by, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(policy), updated_by: by, updated_at: now }))
    .execute();
}

export interface StoredOverride {
  policy: PolicyOverride['policy'];
  reason: string;
  expiresAt: Date | null;
  setBy: string;
  setAt: Date;
}

export async function getOverride(db: Db, tenantId: string): Promise<StoredOverride | null> {
  const row = await db.selectFrom('tenant_policies').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) return null;
  return { policy: row.policy as PolicyOverride['policy'], reason: row.reason, expiresAt: row.expires_at, setBy: row.set_by, setAt: row.set_at };
}

export async function setOverride(db: Db, tenantId: string, o: PolicyOverride, by: string, now: Date) {
  const values = { policy: JSON.stringify(o.policy), reason: o.reason, expires_at: o.expiresAt ?? null, set_by: by, set_at: now };
  await db
    .insertInto('tenant_policies')
    .values({ tenant_id: tenantId, ...values })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
    .execute();
}

export async function deleteOverride(db: Db, tenantId: string) {
  const r = await db.deleteFrom('tenant_policies').where('tenant_id', '=', tenantId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The policies in force for several tenants at once: one query for the default, one for the overrides. */
export async function policiesFor(db: Db, tenantIds: string[], now: Date): Promise<Map<string, Policy>> {
  const base = await getDefaultPolicy(db);
  const result = new Map<string, Policy>(tenantIds.map((id) => [id, base]));
  if (tenantIds.length === 0) return result;
  // One array parameter rather than a bound value per tenant: a counter's batch names hundreds of tenants.
  const rows = await db.selectFrom('tenant_policies').selectAll().where('tenant_id', '=', sql<string>`any(${tenantIds}::text[])`).execute();
  for (const row of rows) {
    result.set(row.tenant_id, effectivePolicy(base, { policy: row.policy as PolicyOverride['policy'], expiresAt: row.expires_at }, now));
  }
  return result;
}

/** Sets a tenant's override and records who set it and why on the tenant, in the caller's transaction. */
export async function setOverrideAudited(trx: Db, tenantId: string, o: PolicyOverride, by: string, now: Date) {
  await setOverride(trx, tenantId, o, by, now);
  await appendTenantEvent(trx, { tenantId, at: now, actor: by, type: 'policy.override.set', reason: o.reason, data: { policy: o.policy, expiresAt: o.expiresAt ?? null } });
}

/** Removes a tenant's override, on the record; false when there was none. */
export async function deleteOverrideAudited(trx: Db, tenantId: string, by: string, now: Date): Promise<boolean> {
  if (!(await deleteOverride(trx, tenantId))) return false;
  await appendTenantEvent(trx, { tenantId, at: now, actor: by, type: 'policy.override.deleted' });
  return true;
}
