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

export const listTenants = (db: Db, o: { after?: string | undefined; limit: number }) => {
  let q = db.selectFrom('tenants').selectAll().orderBy('id').limit(o.limit);
  if (o.after) q = q.where('id', '>', o.after);
  return q.execute();
};

/** The tenant's audit trail (policy overrides, probation), newest first. */
export async function tenantEvents(db: Db, tenantId: string, limit: number) {
  const rows = await db.selectFrom('tenant_events').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((e) => ({ at: e.at.toISOString(), actor: e.actor, type: e.type, reason: e.reason, data: e.data }));
}

/** The number of the ticket that disabled the tenant's outbound mail, if any. */
export async function suspendingTicketNumber(db: Db, t: Tenant): Promise<string | null> {
  if (!t.outbound_ticket_id) return null;
  const row = await db.selectFrom('tickets').select('number').where('id', '=', t.outbound_ticket_id).executeTakeFirst();
  return row?.number ?? null;
}

/** Every tenant whose outbound mail is disabled, by id, with cursor paging (what an MTA builds its block list from). */
export async function suspendedTenants(db: Db, o: { limit: number; cursor?: string | undefined }) {
  let q = db
    .selectFrom('tenants')
    .leftJoin('tickets', 'tickets.id', 'tenants.outbound_ticket_id')
    .select(['tenants.id', 'tenants.outbound_changed_at', 'tickets.number'])
    .where('tenants.outbound_enabled', '=', false)
    .orderBy('tenants.id')
    .limit(o.limit + 1);
  if (o.cursor) q = q.where('tenants.id', '>', o.cursor);
  const rows = await q.execute();
  const page = rows.slice(0, o.limit);
  return {
    items: page.map((r) => ({ tenantId: r.id, enabled: false as const, since: r.outbound_changed_at.toISOString(), ...(r.number ? { ticketNumber: r.number } : {}) })),
    nextCursor: rows.length > o.limit ? page[page.length - 1]!.id : null,
  };
}
