// Read models for the API: tickets with their evidence, attempts and events; lists with cursor paging.
import { OPEN_STATES } from '@abuse-desk/contracts';
import type { Rule, Severity, TicketState } from '@abuse-desk/contracts';
import { SUSPENDING_EVENTS, allowedActions, deadlineIfAcknowledgedNow, suspensionGrounds } from '@abuse-desk/domain';
import type { SuspensionGrounds } from '@abuse-desk/domain';
import { newestEvent, snapshotOf } from './ticket-store.js';
import type { Db } from './connect.js';
import type { ContactAttempt, ContactSnapshot, Evidence, Tenant, Ticket, TicketEvent } from './schema.js';
import { contactView, listContacts, outboundView, tenantEvents } from './tenants.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function ticketSummary(t: Ticket) {
  return {
    id: t.id,
    number: t.number,
    tenantId: t.tenant_id,
    state: t.state as TicketState,
    severity: t.severity as Severity,
    rule: t.rule as Rule,
    open: OPEN_STATES.includes(t.state as never),
    noContacts: t.no_contacts,
    deadlineAt: iso(t.deadline_at),
    outboundDisabled: t.outbound_disabled,
    walking: t.walking,
    probationUntil: (t.evidence as Evidence).probationUntil ?? null,
    tripCount: t.trip_count,
    openedAt: t.opened_at.toISOString(),
    updatedAt: t.updated_at.toISOString(),
    closedAt: iso(t.closed_at),
    evidence: t.evidence as Evidence,
  };
}

export const attemptView = (a: ContactAttempt) => ({
  id: a.id,
  contactId: a.contact_id,
  contactName: a.contact_name,
  channel: a.channel,
  address: a.address,
  kind: a.kind,
  step: a.step,
  round: a.round,
  status: a.status,
  outcome: a.outcome,
  tries: a.tries,
  lastError: a.last_error,
  messageStatus: a.message_status,
  digestId: a.digest_id,
  createdAt: a.created_at.toISOString(),
  completedAt: iso(a.completed_at),
});

export const eventView = (e: TicketEvent) => ({
  seq: e.seq,
  at: e.at.toISOString(),
  actor: e.actor,
  type: e.type,
  fromState: e.from_state,
  toState: e.to_state,
  reason: e.reason,
  data: e.data,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findTicket(db: Db, idOrNumber: string): Promise<Ticket | undefined> {
  const q = db.selectFrom('tickets').selectAll();
  if (UUID.test(idOrNumber)) return q.where('id', '=', idOrNumber).executeTakeFirst();
  return q.where('number', '=', idOrNumber.toUpperCase()).executeTakeFirst();
}

export async function ticketDetail(db: Db, t: Ticket) {
  const [attempts, events, enforcement] = await Promise.all([
    db.selectFrom('contact_attempts').selectAll().where('ticket_id', '=', t.id).orderBy('created_at').orderBy('kind').execute(),
    db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', t.id).orderBy('seq').execute(),
    enforcementEvents(db, { ticketId: t.id, limit: 100 }),
  ]);
  return {
    ...ticketSummary(t),
    allowedActions: allowedActions(snapshotOf(t)),
    contacts: (t.contacts as ContactSnapshot[]).map((c) => ({ ...c })),
    resolution: t.resolution_text
      ? { actionsTaken: t.resolution_text, contactName: t.resolution_contact_name, submittedAt: iso(t.resolution_submitted_at) }
      : null,
    attempts: attempts.map(attemptView),
    events: events.map(eventView),
    enforcementEvents: enforcement,
  };
}

/** Newest first; the cursor is the last ticket's (opened_at, id). */
export async function listTickets(db: Db, f: { state?: string | undefined; tenantId?: string | undefined; cursor?: string | undefined; limit: number }) {
  let q = db.selectFrom('tickets').selectAll().orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(f.limit + 1);
  if (f.state === 'open') q = q.where('state', 'in', [...OPEN_STATES]);
  else if (f.state) q = q.where('state', '=', f.state);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  if (f.cursor) {
    const c = decodeCursor(f.cursor);
    if (!c) return null;
    q = q.where((eb) => eb.or([eb('opened_at', '<', c.at), eb.and([eb('opened_at', '=', c.at), eb('id', '<', c.id)])]));
  }
  const rows = await q.execute();
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { items: page.map(ticketSummary), nextCursor: rows.length > f.limit && last ? encodeCursor(last.opened_at, last.id) : null };
}

const encodeCursor = (at: Date, id: string) => Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
function decodeCursor(cursor: string): { at: Date; id: string } | null {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const d = new Date(at);
    if (Number.isNaN(d.getTime()) || typeof id !== 'string' || !UUID.test(id)) return null;
    return { at: d, id };
  } catch {
    return null;
  }
}

export async function openTicketOf(db: Db, tenantId: string) {
  return db.selectFrom('tickets').selectAll().where('tenant_id', '=', tenantId).where('closed_at', 'is', null).executeTakeFirst();
}

export async function listDeadLetters(db: Db, f: { limit: number; before?: string | undefined }) {
  let q = db.selectFrom('dead_letters').selectAll().orderBy('id', 'desc').limit(f.limit);
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: String(r.id),
    receivedAt: r.received_at.toISOString(),
    source: r.source,
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    reason: r.reason,
    raw: Buffer.from(r.raw).toString('utf8'),
  }));
}

/** What an email or a call says (the channels' TicketView), read at the moment it is sent. */
export interface MessageView {
  number: string;
  tenantId: string;
  tenantName: string;
  state: string;
  severity: 'normal' | 'critical' | 'repeat';
  rule: 'spam' | 'virus' | 'surge' | 'complaints';
  evidence: Pick<Evidence, 'windowSeconds' | 'windowStart' | 'windowEnd' | 'counts' | 'total' | 'ratio' | 'topSenders' | 'complaints'>;
  deadlineAt: Date | null;
  outboundDisabled: boolean;
  resolutionUrl: string;
  acknowledgedBy: string | null;
  acknowledgedHow: string | null;
  deadlineIfAcknowledgedNow: Date | null;
  /** Whether the contact walk still runs. */
  walking: boolean;
  /** The code a contact replies to our SMS with (`ACK 4821`); null on tickets from before SMS. */
  ackCode: string | null;
  /** How long the walk waits for a reply to its SMS (seconds). */
  smsReplySeconds: number;
  /** If the ticket suspended outbound mail: why, and whether a person decided it (the suspension notice's statement of reasons). */
  suspension: SuspensionGrounds | null;
}

/** How an acknowledgement came, in the words of the confirmation email. */
const ACK_HOW: Record<string, string> = { key_press: 'by pressing 1 on our call', link: 'by the link in our email', sms: 'by replying to our SMS', agent: 'by talking to our abuse desk' };

/** What an email or a call says, read at the moment it is sent. */
export async function messageView(db: Db, ticketId: string, resolutionUrl: string, pending?: { now: Date; resolutionTimeoutSeconds: number }): Promise<MessageView | null> {
  const t = await db
    .selectFrom('tickets')
    .innerJoin('tenants', 'tenants.id', 'tickets.tenant_id')
    .select(['tickets.number', 'tickets.walking', 'tickets.tenant_id', 'tenants.name as tenant_name', 'tickets.state', 'tickets.severity', 'tickets.rule', 'tickets.evidence', 'tickets.deadline_at', 'tickets.outbound_disabled', 'tickets.contacts', 'tickets.ack_code', 'tickets.sms_reply_seconds'])
    .where('tickets.id', '=', ticketId)
    .executeTakeFirst();
  if (!t) return null;
  const reached = await newestEvent(db, ticketId, ['contact_reached']);
  let acknowledgedBy: string | null = null;
  let acknowledgedHow: string | null = null;
  if (reached) {
    const contactId = (reached.data as { contactId?: string } | null)?.contactId;
    const channel = (reached.data as { channel?: string; attemptId?: string } | null)?.channel ?? ((reached.data as { attemptId?: string } | null)?.attemptId ? 'key_press' : 'agent');
    acknowledgedHow = ACK_HOW[channel] ?? null;
    const contact = (t.contacts as ContactSnapshot[]).find((c) => c.id === contactId);
    acknowledgedBy = contact ? contact.name : reached.actor;
  }
  // The ticket's suspension (a ticket is suspended at most once). Read whether or not mail is still off: a
  // suspension notice sent after the ticket was resolved (a retried email, a digest) still states why.
  const suspended = await newestEvent(db, ticketId, SUSPENDING_EVENTS);
  const e = t.evidence as Evidence;
  return {
    suspension: suspended ? suspensionGrounds(suspended) : null,
    number: t.number,
    tenantId: t.tenant_id,
    tenantName: t.tenant_name,
    state: t.state,
    severity: t.severity as MessageView['severity'],
    rule: t.rule as MessageView['rule'],
    evidence: { windowSeconds: e.windowSeconds, windowStart: e.windowStart, windowEnd: e.windowEnd, counts: e.counts, total: e.total, ratio: e.ratio, topSenders: e.topSenders, ...(e.complaints ? { complaints: e.complaints } : {}) },
    deadlineAt: t.deadline_at,
    outboundDisabled: t.outbound_disabled,
    resolutionUrl,
    acknowledgedBy,
    acknowledgedHow,
    walking: t.walking,
    ackCode: t.ack_code,
    smsReplySeconds: t.sms_reply_seconds,
    deadlineIfAcknowledgedNow: pending ? deadlineIfAcknowledgedNow({ state: t.state as TicketState, deadlineAt: t.deadline_at }, pending) : null,
  };
}

/** Enforcement events (SPEC §9) of a ticket or a tenant, with their delivery state per destination. */
export async function enforcementEvents(db: Db, f: { ticketId?: string; tenantId?: string; limit: number }) {
  let q = db.selectFrom('outbox').selectAll().orderBy('tenant_seq', 'desc').limit(f.limit);
  if (f.ticketId) q = q.where('ticket_id', '=', f.ticketId);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  const rows = (await q.execute()).reverse();
  const deliveries = rows.length ? await db.selectFrom('outbox_deliveries').selectAll().where('event_id', 'in', rows.map((o) => o.id)).orderBy('destination').execute() : [];
  return rows.map((o) => ({
    eventId: o.id,
    type: o.type,
    sequence: Number(o.tenant_seq),
    at: o.created_at.toISOString(),
    deliveries: deliveries
      .filter((d) => d.event_id === o.id)
      .map((d) => ({ destination: d.destination, status: d.status === 'delivered' ? ('delivered' as const) : d.tries > 0 ? ('retrying' as const) : ('pending' as const), tries: d.tries, lastError: d.last_error, nextAttemptAt: d.status === 'pending' ? iso(d.due_at) : null, deliveredAt: iso(d.delivered_at) })),
  }));
}

/** A tenant with its contacts, outbound status, open ticket, probation and audit trail (GET /v1/tenants/{id}). */
export async function tenantDetail(db: Db, t: Tenant, now: Date) {
  const [contacts, open, enforcement, events] = await Promise.all([listContacts(db, t.id), openTicketOf(db, t.id), enforcementEvents(db, { tenantId: t.id, limit: 20 }), tenantEvents(db, t.id, 50)]);
  return {
    id: t.id,
    name: t.name,
    notes: t.notes,
    outbound: outboundView(t, t.outbound_enabled ? null : (open?.number ?? null)),
    contacts: contacts.map(contactView),
    openTicket: open ? ticketSummary(open) : null,
    probation: t.probation_until ? { since: t.probation_since?.toISOString() ?? null, until: t.probation_until.toISOString(), active: t.probation_until > now } : null,
    enforcementEvents: enforcement,
    events,
    createdAt: t.created_at.toISOString(),
  };
}
