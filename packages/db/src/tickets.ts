// The ticket operations every role calls: each loads the ticket under a row lock, asks the engine
// (`decide` in @abuse-desk/domain) what the event does, and stores the decision with ticket-store.ts —
// all in the caller's transaction. Nothing leaves the process here; workers perform the effect rows
// after the commit.
import type { Rule } from '@abuse-desk/contracts';
import { DEADLINE_STATES, decide, isCrossTrip } from '@abuse-desk/domain';
import type { AttemptKind, CallOutcome, EndedAttempt, EngineContext, EngineEffect, EngineEvent, Evidence, SmsOutcome, TicketCommand, Trip } from '@abuse-desk/domain';
import { sql } from 'kysely';
import { claim } from './claim.js';
import type { Db } from './connect.js';
import { policiesFor } from './policies.js';
import type { ContactSnapshot, Destination, Ticket } from './schema.js';
import { lockOpenTicket, lockTicket, newestEvent, persistDecision, snapshotOf } from './ticket-store.js';

export { appendTenantEvent, lockTicket } from './ticket-store.js';

export interface CommandContext {
  now: Date;
  resolutionTimeoutSeconds: number;
  actor: string;
  /** Enforcement destinations configured for this deployment (Config.enforcementDestinations). */
  destinations: readonly Destination[];
  reason?: string | null;
  data?: Record<string, unknown> | null;
}

export type CommandResult =
  | { ok: true; ticket: Ticket; effects: EngineEffect[] }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'invalid_transition'; detail: string; ticket: Ticket };

export const formatTicketNumber = (n: number | string) => `ABU-${String(n).padStart(6, '0')}`;

/** The policy matters to the engine only for a resolve (which probation follows); other commands need none. */
async function engineContext(trx: Db, tenantId: string, event: EngineEvent, ctx: CommandContext): Promise<EngineContext> {
  const policy = event.type === 'resolve' ? (await policiesFor(trx, [tenantId], ctx.now)).get(tenantId)! : { mode: 'enforce' as const };
  return { now: ctx.now, resolutionTimeoutSeconds: ctx.resolutionTimeoutSeconds, actor: ctx.actor, reason: ctx.reason ?? null, data: ctx.data ?? null, policy };
}

/** Applies one command (agent, tenant, enforcer) or a call's end to a ticket, inside the caller's transaction. */
export async function applyEvent(trx: Db, ticketId: string, event: Exclude<EngineEvent, { type: 'trip' }>, ctx: CommandContext): Promise<CommandResult> {
  const row = await lockTicket(trx, ticketId);
  if (!row) return { ok: false, reason: 'not_found' };
  return decideOnLocked(trx, row, event, ctx);
}

/** The same on a ticket row the caller already holds locked (no second read). */
async function decideOnLocked(trx: Db, row: Ticket, event: Exclude<EngineEvent, { type: 'trip' }>, ctx: CommandContext): Promise<CommandResult> {
  const d = decide(snapshotOf(row), event, await engineContext(trx, row.tenant_id, event, ctx));
  if (!d.ok) return { ok: false, reason: 'invalid_transition', detail: d.detail, ticket: row };
  const ticket = (await persistDecision(trx, row, d, ctx))!;
  return { ok: true, ticket, effects: d.effects };
}

export const applyCommand = (trx: Db, ticketId: string, command: TicketCommand, ctx: CommandContext) => applyEvent(trx, ticketId, command, ctx);

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
  destinations: readonly Destination[];
}

/**
 * A trip: opens a ticket for the tenant, or adds the trip to its open ticket (one open ticket per tenant,
 * guarded by a partial unique index: a concurrent opener waits, then finds the ticket and decides again).
 */
export async function openOrUpdateTicket(trx: Db, input: OpenTicketInput): Promise<{ ticket: Ticket; opened: boolean }> {
  const event: EngineEvent = { type: 'trip', tenantId: input.tenantId, trip: input.trip, evidence: input.evidence, contacts: input.contacts };
  const ctx: EngineContext = { now: input.now, resolutionTimeoutSeconds: input.resolutionTimeoutSeconds, actor: input.actor, policy: { mode: input.mode ?? 'enforce' } };
  // At most three rounds: supersede a shadow ticket, lose a race to a concurrent opener, then update its ticket.
  for (let round = 0; round < 3; round++) {
    const open = (await lockOpenTicket(trx, input.tenantId)) ?? null;
    // The engine records a trip of the other rule family at most every few minutes: when was it last?
    const crossTripRecordedAt = open && isCrossTrip(open.rule as Rule, input.trip.rule) ? ((await newestEvent(trx, open.id, [`${input.trip.rule}.tripped`]))?.at ?? null) : null;
    const d = decide(open && snapshotOf(open), { ...event, crossTripRecordedAt }, ctx);
    if (!d.ok) throw new Error(`a trip was refused for tenant ${input.tenantId}: ${d.detail}`);
    const ticket = await persistDecision(trx, open, d, input);
    if (ticket && !d.reopen) return { ticket, opened: d.opened };
  }
  throw new Error(`could not open or update a ticket for tenant ${input.tenantId}`);
}

/**
 * Records the final outcome of a call and lets the engine move the walk on. Compare-and-set on the
 * attempt: a second result for the same call changes nothing.
 */
export async function recordCallOutcome(trx: Db, attemptId: string, outcome: CallOutcome, ctx: OutcomeContext): Promise<{ applied: boolean }> {
  return endAttempt(trx, attemptId, outcome, ctx, (attempt, detail) => ({ type: 'call_ended', attempt, outcome, ...detail }));
}

/** The same for an SMS (issue 16): the walk's own SMS moves the walk on unless it was acknowledged. */
export async function recordSmsOutcome(trx: Db, attemptId: string, outcome: SmsOutcome, ctx: OutcomeContext): Promise<{ applied: boolean }> {
  return endAttempt(trx, attemptId, outcome, ctx, (attempt, detail) => ({ type: 'sms_ended', attempt, outcome, ...detail }));
}

export type OutcomeContext = CommandContext & { error?: string | null; detail?: string };

async function endAttempt(
  trx: Db,
  attemptId: string,
  outcome: string,
  ctx: OutcomeContext,
  event: (attempt: EndedAttempt, detail: { detail?: string }) => Exclude<EngineEvent, { type: 'trip' }>,
): Promise<{ applied: boolean }> {
  const attempt = await trx.selectFrom('contact_attempts').select(['ticket_id']).where('id', '=', attemptId).executeTakeFirst();
  if (!attempt) return { applied: false };
  // The ticket first, then the attempt: the same lock order as every other ticket operation.
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
  const ended: EndedAttempt = { id: done.id, contactId: done.contact_id, contactName: done.contact_name, kind: done.kind as AttemptKind, step: done.step, round: done.round };
  const r = await decideOnLocked(trx, ticket, event(ended, ctx.detail ? { detail: ctx.detail } : {}), ctx);
  if (!r.ok) throw new Error(`the end of ${done.channel} attempt ${attemptId} was refused: ${r.reason}`);
  return { applied: true };
}

/** The enforcer's sweep: suspends tickets whose deadline passed; several enforcers share the due tickets. */
export async function suspendDueTickets(db: Db, ctx: Omit<CommandContext, 'reason' | 'data'> & { limit: number }): Promise<{ ticket: Ticket; deadlineAt: Date }[]> {
  return db.transaction().execute(async (trx) => {
    const due = await claim<Ticket>(trx, {
      table: 'tickets',
      key: ['id'],
      due: sql`state in (${sql.join([...DEADLINE_STATES])}) and deadline_at <= ${ctx.now}`,
      orderBy: 'deadline_at',
      limit: ctx.limit,
    });
    const suspended: { ticket: Ticket; deadlineAt: Date }[] = [];
    // The claim locked these rows for this transaction: decide on them as read.
    for (const t of due) {
      const r = await decideOnLocked(trx, t, { type: 'deadline_passed' }, ctx);
      if (r.ok) suspended.push({ ticket: r.ticket, deadlineAt: t.deadline_at! });
    }
    return suspended;
  });
}
