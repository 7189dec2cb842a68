// Remembers what the engine decided: maps a ticket row to the domain's snapshot and back, and writes a
// decision — the ticket, its events and its effect rows (attempts, call commands, enforcement outbox,
// probation) — in the caller's transaction. No rule lives here: every "whether" and "what" is the
// domain's (`decide` in @abuse-desk/domain); this file knows only where each thing is kept.
import { randomInt, randomUUID } from 'node:crypto';
import type { Rule, Severity, TicketState } from '@abuse-desk/contracts';
import { LIVE_CALL_STATUSES } from '@abuse-desk/domain';
import type { Decision, EngineEffect, EnforcementAction, TicketEventRecord, TicketSnapshot } from '@abuse-desk/domain';
import { sql } from 'kysely';
import type { Db } from './connect.js';
import type { ContactSnapshot, Destination, Evidence, Ticket } from './schema.js';

export interface PersistContext {
  now: Date;
  /** The enforcement destinations this deployment delivers to (config): one delivery row each. */
  destinations: readonly Destination[];
}

export const snapshotOf = (t: Ticket): TicketSnapshot => ({
  tenantId: t.tenant_id,
  state: t.state as TicketState,
  severity: t.severity as Severity,
  rule: t.rule as Rule,
  evidence: t.evidence as Evidence,
  contacts: t.contacts as ContactSnapshot[],
  redial: { callAttempts: t.call_attempts, afterSeconds: t.redial_after_seconds },
  sms: { afterUnansweredCall: t.sms_after_call, replySeconds: t.sms_reply_seconds },
  noContacts: t.no_contacts,
  walkPosition: t.walk_position,
  walking: t.walking,
  deadlineAt: t.deadline_at,
  stateBeforeResolution: t.state_before_resolution as TicketState | null,
  outboundDisabled: t.outbound_disabled,
  resolution: t.resolution_text ? { actionsTaken: t.resolution_text, contactName: t.resolution_contact_name, submittedAt: t.resolution_submitted_at ?? t.updated_at } : null,
  tripCount: t.trip_count,
  lastTripAt: t.last_trip_at,
  eventSeq: t.event_seq,
  openedAt: t.opened_at,
  closedAt: t.closed_at,
});

const columnsOf = (s: TicketSnapshot, now: Date) => ({
  state: s.state,
  severity: s.severity,
  rule: s.rule,
  evidence: JSON.stringify(s.evidence),
  walk_position: s.walkPosition,
  walking: s.walking,
  deadline_at: s.deadlineAt,
  state_before_resolution: s.stateBeforeResolution,
  outbound_disabled: s.outboundDisabled,
  resolution_text: s.resolution?.actionsTaken ?? null,
  resolution_contact_name: s.resolution?.contactName ?? null,
  resolution_submitted_at: s.resolution?.submittedAt ?? null,
  trip_count: s.tripCount,
  last_trip_at: s.lastTripAt,
  event_seq: s.eventSeq,
  closed_at: s.closedAt,
  updated_at: now,
});

export const lockTicket = (trx: Db, id: string) => trx.selectFrom('tickets').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

/** The ticket's newest event of one of these types (every lookup of "the last time X happened to a ticket"). */
export const newestEvent = (db: Db, ticketId: string, types: readonly string[]) =>
  db.selectFrom('ticket_events').select(['type', 'at', 'actor', 'reason', 'data']).where('ticket_id', '=', ticketId).where('type', 'in', types).orderBy('seq', 'desc').limit(1).executeTakeFirst();

export const lockOpenTicket = (trx: Db, tenantId: string) =>
  trx.selectFrom('tickets').selectAll().where('tenant_id', '=', tenantId).where('closed_at', 'is', null).forUpdate().executeTakeFirst();

/**
 * Writes an accepted decision. `row` is the ticket it was decided on (null: a new ticket, numbered from
 * the sequence). Returns the stored ticket, or null when a new ticket lost the race for the tenant's one
 * open ticket (the partial unique index): the caller decides again on the winner's ticket.
 */
export async function persistDecision(trx: Db, row: Ticket | null, d: Extract<Decision, { ok: true }>, ctx: PersistContext): Promise<Ticket | null> {
  const s = d.ticket;
  let ticket: Ticket | undefined;
  if (row) {
    ticket = await trx.updateTable('tickets').set(columnsOf(s, ctx.now)).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
  } else {
    ticket = await trx
      .insertInto('tickets')
      .values({
        ...columnsOf(s, ctx.now),
        number: sql<string>`'ABU-' || lpad(nextval('ticket_number_seq')::text, 6, '0')`,
        tenant_id: s.tenantId,
        contacts: JSON.stringify(s.contacts),
        ...(s.redial ? { call_attempts: s.redial.callAttempts, redial_after_seconds: s.redial.afterSeconds } : {}),
        ...(s.sms ? { sms_after_call: s.sms.afterUnansweredCall, sms_reply_seconds: s.sms.replySeconds } : {}),
        // What a contact texts back to acknowledge (`ACK 4821`); replies are matched by number and code.
        ack_code: String(randomInt(10_000)).padStart(4, '0'),
        no_contacts: s.noContacts,
        opened_at: s.openedAt,
      })
      .onConflict((oc) => oc.column('tenant_id').where('closed_at', 'is', null).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!ticket) return null;
  }
  await insertEvents(trx, ticket.id, d.events);
  for (const e of d.effects) await persistEffect(trx, ticket, e, ctx);
  return ticket;
}

async function insertEvents(trx: Db, ticketId: string, events: TicketEventRecord[]) {
  if (events.length === 0) return;
  await trx
    .insertInto('ticket_events')
    .values(events.map((e) => ({ ticket_id: ticketId, seq: e.seq, at: e.at, actor: e.actor, type: e.type, from_state: e.fromState, to_state: e.toState, reason: e.reason, data: e.data === null ? null : JSON.stringify(e.data) })))
    .execute();
}

async function persistEffect(trx: Db, t: Ticket, e: EngineEffect, ctx: PersistContext) {
  switch (e.type) {
    case 'create_attempts':
      // The unique key (ticket, contact, kind, step, round) makes a repeated plan a no-op; a redial waits its delay.
      await trx
        .insertInto('contact_attempts')
        .values(
          e.attempts.map((a) => ({
            ticket_id: t.id,
            contact_id: a.contactId,
            contact_name: a.contactName,
            address: a.address,
            timezone: a.timezone,
            channel: a.channel,
            kind: a.kind,
            step: a.step,
            round: a.round ?? 1,
            status: 'pending' as const,
            due_at: a.delaySeconds ? new Date(ctx.now.getTime() + a.delaySeconds * 1000) : ctx.now,
            created_at: ctx.now,
            updated_at: ctx.now,
          })),
        )
        .onConflict((oc) => oc.columns(['ticket_id', 'contact_id', 'kind', 'step', 'round']).doNothing())
        .execute();
      return;
    case 'cancel_pending_walk':
      await trx
        .updateTable('contact_attempts')
        .set({ status: 'canceled', outcome: 'canceled', completed_at: ctx.now, updated_at: ctx.now })
        .where('ticket_id', '=', t.id)
        // Held ones too (waiting for a digest); a digest call already queued stays: it speaks for other tickets too.
        .where((eb) => eb.or([eb('status', '=', 'held'), eb.and([eb('status', '=', 'pending'), eb('digest_id', 'is', null)])]))
        .where('kind', 'in', [...e.kinds])
        .execute();
      return;
    case 'cancel_live_calls':
      await queueCallCommands(trx, t.id, e.exceptAttemptId, ctx.now);
      return;
    case 'enforce':
      await queueEnforcement(trx, t, e.action, e.reason, ctx);
      return;
    case 'start_probation':
      await trx.updateTable('tenants').set({ probation_since: e.since, probation_until: e.until }).where('id', '=', t.tenant_id).execute();
      await appendTenantEvent(trx, { tenantId: t.tenant_id, at: ctx.now, actor: e.actor, type: 'probation.started', reason: e.reason, data: { since: e.since.toISOString(), until: e.until.toISOString(), factor: e.factor, ticketNumber: t.number } });
      return;
  }
}

/** One `cancel` command for every other live call of the ticket, claimed and carried out by the notifier. */
async function queueCallCommands(trx: Db, ticketId: string, exceptAttemptId: string | null, now: Date) {
  await trx
    .insertInto('call_commands')
    .columns(['attempt_id', 'ticket_id', 'command', 'due_at', 'created_at'])
    .expression((eb) =>
      eb
        .selectFrom('contact_attempts')
        .select(['id', 'ticket_id', sql.lit('cancel').as('command'), sql.val(now).as('due_at'), sql.val(now).as('created_at')])
        .where('ticket_id', '=', ticketId)
        .where('channel', '=', 'voice')
        .where('status', 'in', [...LIVE_CALL_STATUSES])
        .$if(exceptAttemptId !== null, (qb) => qb.where('id', '<>', exceptAttemptId!)),
    )
    .onConflict((oc) => oc.columns(['attempt_id', 'command']).doNothing())
    .execute();
}

/**
 * Changes the tenant's outbound status and writes the enforcement event (SPEC §9) to the outbox with the
 * tenant's next sequence number and one pending delivery per configured destination.
 */
async function queueEnforcement(trx: Db, t: Ticket, type: EnforcementAction, reason: string, ctx: PersistContext) {
  const enabled = type === 'outbound.reinstated';
  const tenant = await trx
    .updateTable('tenants')
    .set({ outbound_enabled: enabled, outbound_changed_at: ctx.now, outbound_ticket_id: enabled ? null : t.id, updated_at: ctx.now, enforcement_seq: sql<string>`enforcement_seq + 1` })
    .where('id', '=', t.tenant_id)
    .returning('enforcement_seq')
    .executeTakeFirstOrThrow();
  const eventId = randomUUID();
  const seq = String(tenant.enforcement_seq);
  const payload = { eventId, type, tenantId: t.tenant_id, ticketNumber: t.number, at: ctx.now.toISOString(), reason, sequence: Number(seq) };
  await trx.insertInto('outbox').values({ id: eventId, tenant_id: t.tenant_id, ticket_id: t.id, type, payload: JSON.stringify(payload), tenant_seq: seq, created_at: ctx.now }).execute();
  if (ctx.destinations.length === 0) return;
  await trx
    .insertInto('outbox_deliveries')
    .values(ctx.destinations.map((destination) => ({ event_id: eventId, destination, tenant_id: t.tenant_id, tenant_seq: seq, status: 'pending' as const, due_at: ctx.now })))
    .execute();
}

export async function appendTenantEvent(trx: Db, e: { tenantId: string; at: Date; actor: string; type: string; reason?: string | null; data?: unknown }) {
  await trx
    .insertInto('tenant_events')
    .values({ tenant_id: e.tenantId, at: e.at, actor: e.actor, type: e.type, reason: e.reason ?? null, data: e.data === undefined ? null : JSON.stringify(e.data) })
    .execute();
}
