// Tenants, their ordered contact lists, and their outbound status.
import type { Contact } from '@abuse-desk/contracts';
import type { Db } from './connect.js';
import type { ContactRow, ContactSnapshot, Tenant } from './schema.js';

export async function upsertTenant(db: Db, id: string, body: { name: string; notes?: string | undefined }, now: Date) {
  return db
    .insertInto('tenants')
    .values({ id, name: body.name, notes: body.notes ?? null, created_at: now, updated_at: now, outbound_changed_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: body.name, notes: body.notes ?? null, updated_at: now }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export const getTenant = (db: Db, id: string) => db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();

export const listContacts = (db: Db, tenantId: string) =>
  db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).orderBy('position').execute();

/** Replaces the whole ordered list (SPEC §7 PUT …/contacts) in one transaction. */
export async function replaceContacts(db: Db, tenantId: string, contacts: Contact[]): Promise<ContactRow[]> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('contacts').where('tenant_id', '=', tenantId).execute();
    if (contacts.length === 0) return [];
    return trx
      .insertInto('contacts')
      .values(
        contacts.map((c, position) => ({
          tenant_id: tenantId,
          position,
          name: c.name,
          phone: c.phone ?? null,
          email: c.email ?? null,
          role: c.role,
          preferred_channel: c.preferredChannel ?? null,
          timezone: c.timezone ?? null,
        })),
      )
      .returningAll()
      .execute();
  });
}

export const toSnapshot = (c: ContactRow): ContactSnapshot => ({
  id: c.id,
  name: c.name,
  phone: c.phone,
  email: c.email,
  role: c.role,
  preferredChannel: c.preferred_channel,
  timezone: c.timezone,
});

export const contactView = (c: ContactRow) => ({
  id: c.id,
  name: c.name,
  phone: c.phone ?? undefined,
  email: c.email ?? undefined,
  role: c.role,
  preferredChannel: c.preferred_channel ?? undefined,
  timezone: c.timezone ?? undefined,
});

export function outboundView(t: Tenant, ticketNumber: string | null) {
  return {
    tenantId: t.id,
    enabled: t.outbound_enabled,
    since: t.outbound_changed_at.toISOString(),
    ...(ticketNumber ? { ticketNumber } : {}),
  };
}

/** Ensures tenants seen first in verdicts exist (no contacts yet), in key order so concurrent batches do not deadlock. */
export async function ensureTenants(db: Db, ids: string[], now: Date) {
  if (ids.length === 0) return;
  const sorted = [...new Set(ids)].sort();
  await db
    .insertInto('tenants')
    .values(sorted.map((id) => ({ id, name: id, created_at: now, updated_at: now, outbound_changed_at: now })))
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
