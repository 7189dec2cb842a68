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

/** The policies in force for several tenants at once. */
export async function policiesFor(db: Db, tenantIds: string[], now: Date): Promise<Map<string, Policy>> {
  return (await policiesInForce(db, tenantIds, now, { probation: false })).policies;
}

export interface Probation {
  /** The reinstatement that started it. */
  since: Date;
  until: Date;
}

/**
 * The policies in force for several tenants, and — with `probation` — which of them are on probation
 * now, in one statement: the default, the overrides and the probations travel as one row (a counter's
 * batch asks this for hundreds of tenants, and each round trip to PostgreSQL costs it milliseconds when
 * the cores are busy). Tenants travel as one array parameter, not a bound value each.
 */
export async function policiesInForce(db: Db, tenantIds: string[], now: Date, opts: { probation: boolean }): Promise<{ policies: Map<string, Policy>; probation: Map<string, Probation> }> {
  const { rows } = await sql<{ base: unknown; overrides: { t: string; p: PolicyOverride['policy']; e: string | null }[]; probation: { t: string; s: string; u: string }[] }>`
    select
      (select value from settings where key = 'default_policy') as base,
      (select coalesce(json_agg(json_build_object('t', p.tenant_id, 'p', p.policy, 'e', p.expires_at)), '[]') from tenant_policies p where p.tenant_id = any(${tenantIds}::text[])) as overrides,
      (select coalesce(json_agg(json_build_object('t', t.id, 's', t.probation_since, 'u', t.probation_until)), '[]') from tenants t
        where ${opts.probation} and t.id = any(${tenantIds}::text[]) and t.probation_since is not null and t.probation_until > ${now}) as probation`.execute(db);
  const row = rows[0]!;
  const base = row.base === null || row.base === undefined ? DEFAULT_POLICY : Policy.parse(row.base);
  const policies = new Map<string, Policy>(tenantIds.map((id) => [id, base]));
  for (const o of row.overrides) policies.set(o.t, effectivePolicy(base, { policy: o.p, expiresAt: o.e === null ? null : new Date(o.e) }, now));
  const probation = new Map(row.probation.map((p) => [p.t, { since: new Date(p.s), until: new Date(p.u) }]));
  return { policies, probation };
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
