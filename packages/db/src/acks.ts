// Acknowledgement links (issue 16): a token per email, bound to one ticket and one contact, stored hashed.
// Opening the link only reads; acknowledging goes through the engine like a key press.
import type { Db } from './connect.js';
import type { ContactSnapshot, Evidence } from './schema.js';
import { applyEvent } from './tickets.js';
import type { CommandContext } from './tickets.js';
import { hashToken, newSecret } from './tokens.js';

/** A fresh acknowledgement token for one email to one contact of the ticket. */
export async function issueAckToken(db: Db, ticketId: string, contactId: string, now: Date): Promise<string> {
  const token = newSecret('');
  await db.insertInto('ack_tokens').values({ token_hash: hashToken(token), ticket_id: ticketId, contact_id: contactId, created_at: now }).execute();
  return token;
}

export interface AckTarget {
  ticketId: string;
  number: string;
  tenantName: string;
  state: string;
  walking: boolean;
  evidence: Evidence;
  deadlineAt: Date | null;
  contact: { id: string; name: string; role: 'contact' | 'tam' };
}

/** What an acknowledgement link points at, or null for a link that was never issued. */
export async function ackTarget(db: Db, token: string): Promise<AckTarget | null> {
  const row = await db
    .selectFrom('ack_tokens as a')
    .innerJoin('tickets as t', 't.id', 'a.ticket_id')
    .innerJoin('tenants as n', 'n.id', 't.tenant_id')
    .select(['a.contact_id', 't.id', 't.number', 't.state', 't.walking', 't.evidence', 't.deadline_at', 't.contacts', 'n.name as tenant_name'])
    .where('a.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) return null;
  const contact = (row.contacts as ContactSnapshot[]).find((c) => c.id === row.contact_id);
  if (!contact) return null;
  return {
    ticketId: row.id,
    number: row.number,
    tenantName: row.tenant_name,
    state: row.state,
    walking: row.walking,
    evidence: row.evidence as Evidence,
    deadlineAt: row.deadline_at,
    contact: { id: contact.id, name: contact.name, role: contact.role },
  };
}

/**
 * Acknowledges through a link, in the caller's transaction: the engine decides (the walk stops, the
 * deadline starts, live calls end — or, for a TAM, only a record); a refusal says why in words.
 */
export async function acknowledgeByLink(trx: Db, token: string, ctx: Omit<CommandContext, 'actor'>): Promise<{ ok: true; target: AckTarget } | { ok: false; detail: string; target: AckTarget | null }> {
  const target = await ackTarget(trx, token);
  if (!target) return { ok: false, detail: 'unknown', target: null };
  const r = await applyEvent(trx, target.ticketId, { type: 'acknowledged', contactId: target.contact.id, channel: 'link' }, { ...ctx, actor: `contact:${target.contact.name}` });
  if (!r.ok) return { ok: false, detail: r.reason === 'not_found' ? 'unknown' : r.detail, target };
  // The ticket as the acknowledgement left it: its deadline is what the contact is told.
  return { ok: true, target: { ...target, state: r.ticket.state, walking: r.ticket.walking, deadlineAt: r.ticket.deadline_at } };
}
