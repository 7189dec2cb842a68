// Tenants, trips and row readers for the ticket store's tests.
import type { Contact } from '@abuse-desk/contracts';
import { contactList } from '@abuse-desk/testkit';
import type { CallOutcome, TicketCommand, Trip } from '@abuse-desk/domain';
import type { Db } from './connect.js';
import type { ContactSnapshot, Evidence } from './schema.js';
import { listContacts, replaceContacts, toSnapshot, upsertTenant } from './tenants.js';
import { applyCommand, openOrUpdateTicket, recordCallOutcome } from './tickets.js';
import type { CommandContext } from './tickets.js';
export const TIMEOUT_SECONDS = 3600;
export const NOW = new Date('2026-11-22T10:15:00.000Z');
export const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000);

/** Two contacts with phone and email, and a TAM reachable by email only (testkit's list). */
export const CONTACTS: Contact[] = contactList();

export const TRIP: Trip = {
  rule: 'spam',
  severity: 'normal',
  windowSeconds: 600,
  counts: { spam: 60, phish: 0, virus: 0, clean: 40 },
  total: 100,
  ratio: 0.6,
  thresholds: { minSpam: 50, minSpamRatio: 0.05 },
  suspendAtOnce: false,
};

export const evidenceAt = (now: Date): Evidence => ({
  rule: 'spam',
  windowSeconds: 600,
  windowStart: minutesAfter(now, -10).toISOString(),
  windowEnd: now.toISOString(),
  counts: TRIP.counts,
  total: TRIP.total,
  ratio: TRIP.ratio,
  thresholds: TRIP.thresholds,
  topSenders: [{ sender: 'billing@acme.example', count: 60 }],
});

/** Creates the tenant with its contacts and opens a ticket for it, as a trip of the counter would. */
export async function openTicketFor(db: Db, tenantId: string, now: Date, contacts: Contact[] = CONTACTS) {
  await upsertTenant(db, tenantId, { name: `${tenantId} Mail` }, now);
  await replaceContacts(db, tenantId, contacts);
  const snapshots: ContactSnapshot[] = (await listContacts(db, tenantId)).map(toSnapshot);
  const { ticket, opened } = await db
    .transaction()
    .execute((trx) => openOrUpdateTicket(trx, { tenantId, trip: TRIP, evidence: evidenceAt(now), contacts: snapshots, now, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'counter', destinations: ['kafka', 'webhook'] }));
  const contactId = (name: string) => snapshots.find((c) => c.name === name)!.id;
  return { ticket, opened, contactId };
}

export const command = (db: Db, ticketId: string, c: TicketCommand, ctx: Omit<CommandContext, 'resolutionTimeoutSeconds' | 'destinations'> & { destinations?: CommandContext['destinations'] }) =>
  db.transaction().execute((trx) => applyCommand(trx, ticketId, c, { resolutionTimeoutSeconds: TIMEOUT_SECONDS, destinations: ['kafka', 'webhook'], ...ctx }));

export const callEnded = (db: Db, attemptId: string, outcome: CallOutcome, now: Date) =>
  db.transaction().execute((trx) => recordCallOutcome(trx, attemptId, outcome, { now, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'notifier', destinations: ['kafka', 'webhook'] }));

export const ticketRow = (db: Db, id: string) => db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** The attempts of a ticket as a person would list them: who, how, what, and where it stands. */
export async function attemptsOf(db: Db, ticketId: string) {
  const rows = await db.selectFrom('contact_attempts').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').orderBy('kind').orderBy('contact_name').execute();
  return rows.map((a) => ({ id: a.id, who: a.contact_name, kind: a.kind, channel: a.channel, address: a.address, step: a.step, status: a.status, outcome: a.outcome, dueAt: a.due_at }));
}

export const attempt = (rows: Awaited<ReturnType<typeof attemptsOf>>, who: string, kind: string) => {
  const found = rows.find((a) => a.who === who && a.kind === kind);
  if (!found) throw new Error(`no ${kind} attempt for ${who}`);
  return found;
};

export async function eventsOf(db: Db, ticketId: string) {
  const rows = await db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticketId).orderBy('seq').execute();
  return rows.map((e) => ({ seq: e.seq, type: e.type, from: e.from_state, to: e.to_state, reason: e.reason, actor: e.actor }));
}

export const outboxOf = (db: Db, ticketId: string) => db.selectFrom('outbox').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').execute();
