// The ticket store: loads a ticket under a row lock, asks the domain what a command does, and writes
// the new state, the ticket event and the effect rows (attempts, outbox, tenant status) in the caller's
// transaction. Nothing leaves the process here; workers perform the effect rows after the commit.
import { randomUUID } from 'node:crypto';
import type { TicketState } from '@abuse-desk/contracts';
import { DEFAULT_PROBATION, afterCall, decide, noticeRecipients, startWalk } from '@abuse-desk/domain';
import { policiesFor } from './policies.js';
import type { CallOutcome, Command, Effect, PlannedAttempt, TicketFacts, Trip } from '@abuse-desk/domain';
import { sql } from 'kysely';
import type { Db } from './connect.js';
import { DESTINATIONS } from './schema.js';
import type { ContactSnapshot, Evidence, Ticket } from './schema.js';

export interface CommandContext {
  now: Date;
  resolutionTimeoutSeconds: number;
  actor: string;
  reason?: string | null;
  data?: Record<string, unknown> | null;
}

export type CommandResult =
  | { ok: true; ticket: Ticket; effects: Effect[] }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'invalid_transition'; detail: string; ticket: Ticket };

const CLOSED: readonly TicketState[] = ['resolved', 'dismissed'];

export const formatTicketNumber = (n: number | string) => `ABU-${String(n).padStart(6, '0')}`;

const factsOf = (t: Ticket): TicketFacts => ({
  state: t.state as TicketState,
  deadlineAt: t.deadline_at,
  stateBeforeResolution: t.state_before_resolution as TicketState | null,
  outboundDisabled: t.outbound_disabled,
  walking: t.walking,
});

export async function appendEvent(
  trx: Db,
  ticket: Pick<Ticket, 'id' | 'event_seq'>,
  e: { at: Date; actor: string; type: string; fromState?: string | null; toState?: string | null; reason?: string | null; data?: unknown },
): Promise<number> {
  const seq = ticket.event_seq + 1;
  await trx.updateTable('tickets').set({ event_seq: seq }).where('id', '=', ticket.id).execute();
  await trx
    .insertInto('ticket_events')
    .values({
      ticket_id: ticket.id,
      seq,
      at: e.at,
      actor: e.actor,
      type: e.type,
      from_state: e.fromState ?? null,
      to_state: e.toState ?? null,
      reason: e.reason ?? null,
      data: e.data === undefined || e.data === null ? null : JSON.stringify(e.data),
    })
    .execute();
  return seq;
}

/** Inserts planned attempts; the unique key (ticket, contact, kind, step) makes a repeated plan a no-op. */
export async function insertAttempts(trx: Db, ticketId: string, contacts: ContactSnapshot[], planned: PlannedAttempt[], now: Date) {
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const rows = planned.flatMap((p) => {
    const c = byId.get(p.contactId);
    const address = c && (p.channel === 'voice' ? c.phone : c.email);
    if (!c || !address) return [];
    return [
      {
        ticket_id: ticketId,
        contact_id: c.id,
        contact_name: c.name,
        address,
        timezone: c.timezone,
        channel: p.channel,
        kind: p.kind,
        step: p.step,
        status: 'pending' as const,
        due_at: now,
        created_at: now,
        updated_at: now,
      },
    ];
  });
  if (rows.length === 0) return;
  await trx
    .insertInto('contact_attempts')
    .values(rows)
    .onConflict((oc) => oc.columns(['ticket_id', 'contact_id', 'kind', 'step']).doNothing())
    .execute();
}

/**
 * Changes the tenant's outbound status and writes the enforcement event (SPEC §9) to the outbox with the
 * tenant's next sequence number and one pending delivery per destination — all in the caller's transaction.
 */
async function queueEnforcement(trx: Db, t: Ticket, type: 'outbound.suspended' | 'outbound.reinstated', reason: string, now: Date) {
  const enabled = type === 'outbound.reinstated';
  const tenant = await trx
    .updateTable('tenants')
    .set({ outbound_enabled: enabled, outbound_changed_at: now, outbound_ticket_id: enabled ? null : t.id, updated_at: now, enforcement_seq: sql<string>`enforcement_seq + 1` })
    .where('id', '=', t.tenant_id)
    .returning('enforcement_seq')
    .executeTakeFirstOrThrow();
  const eventId = randomUUID();
  const seq = String(tenant.enforcement_seq);
  const payload = { eventId, type, tenantId: t.tenant_id, ticketNumber: t.number, at: now.toISOString(), reason, sequence: Number(seq) };
  await trx
    .insertInto('outbox')
    .values({ id: eventId, tenant_id: t.tenant_id, ticket_id: t.id, type, payload: JSON.stringify(payload), tenant_seq: seq, created_at: now })
    .execute();
  await trx
    .insertInto('outbox_deliveries')
    .values(DESTINATIONS.map((destination) => ({ event_id: eventId, destination, tenant_id: t.tenant_id, tenant_seq: seq, status: 'pending' as const, due_at: now })))
    .execute();
}

function enforcementReason(c: Command, ctx: CommandContext): string {
  if (c.type === 'deadline_passed') return `no resolution within ${ctx.resolutionTimeoutSeconds} s`;
  const verb = c.type === 'suspend' ? 'suspended by' : c.type === 'resolve' ? 'resolved by' : c.type === 'dismiss' ? 'dismissed by' : `${c.type} by`;
  return `${verb} ${ctx.actor}${ctx.reason ? `: ${ctx.reason}` : ''}`;
}

async function startProbation(trx: Db, tenantId: string, ctx: CommandContext) {
  const policy = (await policiesFor(trx, [tenantId], ctx.now)).get(tenantId)!;
  const { hours, factor } = policy.probation ?? DEFAULT_PROBATION;
  const until = new Date(ctx.now.getTime() + hours * 3600_000);
  await trx.updateTable('tenants').set({ probation_since: ctx.now, probation_until: until }).where('id', '=', tenantId).execute();
  await appendTenantEvent(trx, { tenantId, at: ctx.now, actor: ctx.actor, type: 'probation.started', reason: `re-enabled after a resolution: thresholds × ${factor} until ${until.toISOString()}`, data: { since: ctx.now.toISOString(), until: until.toISOString(), factor } });
}

export async function appendTenantEvent(trx: Db, e: { tenantId: string; at: Date; actor: string; type: string; reason?: string | null; data?: unknown }) {
  await trx
    .insertInto('tenant_events')
    .values({ tenant_id: e.tenantId, at: e.at, actor: e.actor, type: e.type, reason: e.reason ?? null, data: e.data === undefined ? null : JSON.stringify(e.data) })
    .execute();
}

export const lockTicket = (trx: Db, id: string) => trx.selectFrom('tickets').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

/** Applies one command to a ticket inside the caller's transaction. */
export async function applyCommand(trx: Db, ticketId: string, command: Command, ctx: CommandContext): Promise<CommandResult> {
  const t = await lockTicket(trx, ticketId);
  if (!t) return { ok: false, reason: 'not_found' };
  const decision = decide(factsOf(t), command, ctx);
  if (!decision.ok) return { ok: false, reason: 'invalid_transition', detail: decision.detail, ticket: t };
  const { next, effects } = decision;
  const seq = await appendEvent(trx, t, {
    at: ctx.now,
    actor: ctx.actor,
    type: command.type,
    fromState: t.state,
    toState: next.state,
    reason: ctx.reason ?? null,
    data: { ...(command.type === 'extend' ? { minutes: command.minutes } : {}), ...(ctx.data ?? {}), ...(next.deadlineAt ? { deadlineAt: next.deadlineAt.toISOString() } : {}) },
  });
  const updated = await trx
    .updateTable('tickets')
    .set({
      state: next.state,
      deadline_at: next.deadlineAt,
      state_before_resolution: next.stateBeforeResolution,
      outbound_disabled: next.outboundDisabled,
      walking: next.walking,
      closed_at: CLOSED.includes(next.state) ? (t.closed_at ?? ctx.now) : null,
      updated_at: ctx.now,
    })
    .where('id', '=', t.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const contacts = t.contacts as ContactSnapshot[];
  for (const e of effects) {
    switch (e.type) {
      case 'stop_walk':
        await trx
          .updateTable('contact_attempts')
          .set({ status: 'canceled', outcome: 'canceled', completed_at: ctx.now, updated_at: ctx.now })
          .where('ticket_id', '=', t.id)
          .where('status', '=', 'pending')
          .where('kind', 'in', ['call', 'followup', 'tam_call'])
          .execute();
        break;
      case 'disable_outbound':
        await queueEnforcement(trx, updated, 'outbound.suspended', enforcementReason(command, ctx), ctx.now);
        break;
      case 'enable_outbound':
        await queueEnforcement(trx, updated, 'outbound.reinstated', enforcementReason(command, ctx), ctx.now);
        // Re-enabled after a resolution: probation, with lower thresholds and counting from now on.
        if (command.type === 'resolve') await startProbation(trx, updated.tenant_id, ctx);
        break;
      case 'notify': {
        const recipients = e.to === 'all' ? noticeRecipients(contacts) : contacts.filter((c) => c.id === (e.to as { contactId: string }).contactId && c.email);
        const planned = (recipients.length ? recipients : e.to === 'all' ? [] : noticeRecipients(contacts)).map(
          (c): PlannedAttempt => ({ contactId: c.id, kind: e.kind, channel: 'email', step: seq }),
        );
        await insertAttempts(trx, t.id, contacts, planned, ctx.now);
        break;
      }
    }
  }
  return { ok: true, ticket: updated, effects };
}

export interface OpenTicketInput {
  tenantId: string;
  trip: Trip;
  /** shadow: record what would have happened, contact nobody, suspend nothing. */
  mode?: 'enforce' | 'shadow';
  evidence: Evidence;
  contacts: ContactSnapshot[];
  now: Date;
  resolutionTimeoutSeconds: number;
  actor: string;
}

/**
 * Opens a ticket for a tripped tenant, or adds the trip to its open ticket (one open ticket per tenant,
 * guarded by a partial unique index: a concurrent opener waits, then finds the ticket and updates it).
 */
export async function openOrUpdateTicket(trx: Db, input: OpenTicketInput): Promise<{ ticket: Ticket; opened: boolean }> {
  const { now } = input;
  const shadow = input.mode === 'shadow';
  // A shadow ticket left open from before a switch to enforce mode gives way to a real one.
  if (!shadow) {
    const stale = await trx.selectFrom('tickets').selectAll().where('tenant_id', '=', input.tenantId).where('closed_at', 'is', null).where('state', '=', 'shadow').forUpdate().executeTakeFirst();
    if (stale) {
      await trx.updateTable('tickets').set({ state: 'dismissed', closed_at: now, updated_at: now }).where('id', '=', stale.id).execute();
      await appendEvent(trx, stale, { at: now, actor: input.actor, type: 'superseded', fromState: 'shadow', toState: 'dismissed', reason: 'the policy is in enforce mode now' });
    }
  }
  // Look first, so that a tenant who keeps tripping does not burn a ticket number per batch; the insert's
  // conflict clause still settles a race between two openers.
  const existing = await trx.selectFrom('tickets').select('id').where('tenant_id', '=', input.tenantId).where('closed_at', 'is', null).executeTakeFirst();
  const inserted = existing
    ? undefined
    : await trx
        .insertInto('tickets')
        .values({
          number: sql<string>`'ABU-' || lpad(nextval('ticket_number_seq')::text, 6, '0')`,
          tenant_id: input.tenantId,
          state: shadow ? 'shadow' : 'notifying',
          walking: !shadow,
          severity: input.trip.severity,
          rule: input.trip.rule,
          evidence: JSON.stringify(input.evidence),
          contacts: JSON.stringify(input.contacts),
          no_contacts: input.contacts.length === 0,
          last_trip_at: now,
          opened_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('tenant_id').where('closed_at', 'is', null).doNothing())
        .returningAll()
        .executeTakeFirst();

  if (!inserted) {
    const open = await trx.selectFrom('tickets').selectAll().where('tenant_id', '=', input.tenantId).where('closed_at', 'is', null).forUpdate().executeTakeFirstOrThrow();
    // A more severe trip on an open ticket (a virus outbreak on top of spam) escalates it, on the record.
    const escalate = input.trip.severity === 'critical' && open.severity === 'normal';
    const ticket = await trx
      .updateTable('tickets')
      .set({
        evidence: JSON.stringify(input.evidence),
        trip_count: sql<number>`trip_count + 1`,
        last_trip_at: now,
        updated_at: now,
        ...(escalate ? { severity: 'critical', rule: input.trip.rule } : {}),
      })
      .where('id', '=', open.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (escalate) {
      await appendEvent(trx, open, { at: now, actor: input.actor, type: 'escalated', reason: `${input.trip.rule} rule tripped on the open ticket`, data: { evidence: input.evidence, severity: 'critical' } });
    }
    return { ticket: escalate ? { ...ticket, event_seq: ticket.event_seq + 1 } : ticket, opened: false };
  }

  await appendEvent(trx, inserted, {
    at: now,
    actor: input.actor,
    type: 'opened',
    toState: inserted.state,
    reason: `${input.trip.rule} rule tripped${shadow ? ' (shadow mode: nobody is contacted, nothing is suspended)' : ''}`,
    data: { evidence: input.evidence, severity: input.trip.severity },
  });
  if (shadow) return { ticket: (await trx.selectFrom('tickets').selectAll().where('id', '=', inserted.id).executeTakeFirstOrThrow()), opened: true };
  const commandCtx = { now, resolutionTimeoutSeconds: input.resolutionTimeoutSeconds, actor: input.actor };
  if (input.trip.suspendAtOnce) {
    // Outbound off in the transaction that opens the ticket, the event queued — and only then the walk.
    const reason = input.trip.severity === 'repeat' ? 'a repeat offence during probation' : `the ${input.trip.rule} rule suspends at once`;
    await applyCommand(trx, inserted.id, { type: 'suspend_on_open' }, { ...commandCtx, reason });
  }
  const plan = startWalk(input.contacts);
  await insertAttempts(trx, inserted.id, input.contacts, plan.attempts, now);
  await trx.updateTable('tickets').set({ walk_position: plan.position }).where('id', '=', inserted.id).execute();
  if (plan.exhausted) {
    const r = await applyCommand(trx, inserted.id, { type: 'walk_exhausted' }, { ...commandCtx, reason: input.contacts.length === 0 ? 'the tenant has no contacts' : 'no contact can be called' });
    if (r.ok) return { ticket: r.ticket, opened: true };
  }
  const ticket = await trx.selectFrom('tickets').selectAll().where('id', '=', inserted.id).executeTakeFirstOrThrow();
  return { ticket, opened: true };
}

/**
 * Records the final outcome of a call and moves the walk on: an acknowledgement engages the ticket;
 * anything else sends that contact the follow-up email and calls the next one. Compare-and-set on the
 * attempt: a second result for the same call changes nothing.
 */
export async function recordCallOutcome(
  trx: Db,
  attemptId: string,
  outcome: CallOutcome,
  ctx: { now: Date; resolutionTimeoutSeconds: number; actor: string; error?: string | null },
): Promise<{ applied: boolean }> {
  const attempt = await trx.selectFrom('contact_attempts').select(['ticket_id']).where('id', '=', attemptId).executeTakeFirst();
  if (!attempt) return { applied: false };
  const ticket = await lockTicket(trx, attempt.ticket_id);
  if (!ticket) return { applied: false };
  const done = await trx
    .updateTable('contact_attempts')
    .set({ status: 'done', outcome, completed_at: ctx.now, updated_at: ctx.now, locked_by: null, locked_until: null, last_error: ctx.error ?? null })
    .where('id', '=', attemptId)
    .where('status', 'in', ['pending', 'dispatching', 'placed'])
    .returningAll()
    .executeTakeFirst();
  if (!done) return { applied: false };
  await appendEvent(trx, ticket, {
    at: ctx.now,
    actor: ctx.actor,
    type: 'call.ended',
    reason: outcome,
    data: { attemptId, contactId: done.contact_id, contactName: done.contact_name, kind: done.kind },
  });
  const fresh = { ...ticket, event_seq: ticket.event_seq + 1 };
  if (outcome === 'acknowledged') {
    if (done.kind === 'call' && ticket.walking) {
      await applyCommand(trx, ticket.id, { type: 'contact_reached', contactId: done.contact_id }, { ...ctx, reason: `${done.contact_name} pressed 1`, data: { attemptId, contactId: done.contact_id } });
    }
    return { applied: true };
  }
  if (done.kind !== 'call' || !ticket.walking || done.step !== ticket.walk_position) return { applied: true };
  const contacts = ticket.contacts as ContactSnapshot[];
  const plan = afterCall(contacts, done.step);
  await insertAttempts(trx, ticket.id, contacts, plan.attempts, ctx.now);
  await trx.updateTable('tickets').set({ walk_position: plan.position, updated_at: ctx.now }).where('id', '=', ticket.id).execute();
  if (plan.exhausted) {
    await applyCommand(trx, ticket.id, { type: 'walk_exhausted' }, { ...ctx, reason: 'every contact was tried, nobody was reached' });
  }
  return { applied: true };
}

/** The enforcer's sweep: suspends tickets whose deadline passed. SKIP LOCKED lets several enforcers share the work. */
export async function suspendDueTickets(db: Db, ctx: { now: Date; resolutionTimeoutSeconds: number; limit: number; actor: string }): Promise<{ ticket: Ticket; deadlineAt: Date }[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('tickets')
      .select(['id', 'deadline_at'])
      .where('state', 'in', ['engaged', 'awaiting_response'])
      .where('deadline_at', '<=', ctx.now)
      .orderBy('deadline_at')
      .limit(ctx.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const suspended: { ticket: Ticket; deadlineAt: Date }[] = [];
    for (const { id, deadline_at } of due) {
      const r = await applyCommand(trx, id, { type: 'deadline_passed' }, ctx);
      if (r.ok) suspended.push({ ticket: r.ticket, deadlineAt: deadline_at! });
    }
    return suspended;
  });
}
