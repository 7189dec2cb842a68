// The ticket engine: every event a ticket meets — a trip, the end of a call, a command of an agent, the
// tenant or the enforcer — decided by one pure function, (ticket, event, context) → the next ticket, the
// ticket events to append and the effects to queue. The database layer only loads and stores what this
// decides; the rules live here and in ticket-state.ts (states) and walk.ts (who is contacted next).
import type { Rule, TicketState } from '@abuse-desk/contracts';
import { DEFAULT_PROBATION } from './policy.js';
import { isClosed, transition } from './ticket-state.js';
import type { Command, StateEffect, TicketFacts } from './ticket-state.js';
import type { AckChannel, AttemptSpec, Decision, EngineContext, EngineEffect, EngineEvent, TicketEventRecord, TicketSnapshot } from './ticket.js';
import { afterCall, noticeRecipients, redialAfter, startWalk } from './walk.js';
import type { AttemptKind, PlannedAttempt, WalkPlan } from './walk.js';

/** The walk's own attempts, cancelled when the walk stops (notices are not). */
export const WALK_KINDS: readonly AttemptKind[] = ['call', 'followup', 'sms', 'sms_followup', 'tam_call'];

/** A ticket being decided: accumulates its events and effects, numbering the events as they come. */
class Draft {
  readonly events: TicketEventRecord[] = [];
  readonly effects: EngineEffect[] = [];
  constructor(
    public t: TicketSnapshot,
    private readonly ctx: EngineContext,
  ) {}

  record(e: { type: string; fromState?: TicketState | null; toState?: TicketState | null; reason?: string | null; data?: Record<string, unknown> | null; actor?: string }) {
    this.t = { ...this.t, eventSeq: this.t.eventSeq + 1 };
    const seq = this.t.eventSeq;
    this.events.push({ seq, at: this.ctx.now, actor: e.actor ?? this.ctx.actor, type: e.type, fromState: e.fromState ?? null, toState: e.toState ?? null, reason: e.reason ?? null, data: e.data ?? null });
    return seq;
  }

  /** Applies one state-machine command: the event, the new facts, and its effects turned into rows. */
  apply(c: Command, reason: string | null, data: Record<string, unknown> = {}): { ok: true } | { ok: false; detail: string } {
    const r = transition(this.t, c, this.ctx);
    if (!r.ok) return { ok: false, detail: r.detail };
    const from = this.t.state;
    const next = r.next;
    const seq = this.record({
      type: c.type,
      fromState: from,
      toState: next.state,
      reason,
      data: { ...(c.type === 'extend' ? { minutes: c.minutes } : {}), ...data, ...(next.deadlineAt ? { deadlineAt: next.deadlineAt.toISOString() } : {}) },
    });
    const facts: TicketFacts = { state: next.state, deadlineAt: next.deadlineAt, stateBeforeResolution: next.stateBeforeResolution, outboundDisabled: next.outboundDisabled, walking: next.walking };
    this.t = { ...this.t, ...facts, closedAt: isClosed(next.state) ? (this.t.closedAt ?? this.ctx.now) : null };
    for (const e of r.effects) this.effect(e, c, seq, reason);
    // Probation follows any resolve (mail off or not): a tenant that spams again soon is a repeat offender.
    if (c.type === 'resolve') {
      const { hours, factor } = this.ctx.policy.probation ?? DEFAULT_PROBATION;
      const until = new Date(this.ctx.now.getTime() + hours * 3600_000);
      this.effects.push({ type: 'start_probation', since: this.ctx.now, until, factor, actor: this.ctx.actor, reason: `resolved: thresholds × ${factor} until ${until.toISOString()}` });
    }
    return { ok: true };
  }

  walkTo(plan: WalkPlan) {
    this.attempts(plan.attempts);
    this.t = { ...this.t, walkPosition: plan.position };
  }

  attempts(planned: PlannedAttempt[]) {
    const byId = new Map(this.t.contacts.map((c) => [c.id, c]));
    const specs = planned.flatMap((p): AttemptSpec[] => {
      const c = byId.get(p.contactId);
      const address = c && (p.channel === 'email' ? c.email : c.phone);
      return c && address ? [{ ...p, contactName: c.name, address, timezone: c.timezone }] : [];
    });
    if (specs.length) this.effects.push({ type: 'create_attempts', attempts: specs });
  }

  private effect(e: StateEffect, c: Command, seq: number, reason: string | null) {
    switch (e.type) {
      case 'stop_walk':
        this.effects.push({ type: 'cancel_pending_walk', kinds: WALK_KINDS });
        return;
      case 'disable_outbound':
        this.effects.push({ type: 'enforce', action: 'outbound.suspended', reason: enforcementReason(c, { ...this.ctx, reason }) });
        return;
      case 'enable_outbound':
        this.effects.push({ type: 'enforce', action: 'outbound.reinstated', reason: enforcementReason(c, { ...this.ctx, reason }) });
        return;
      case 'notify':
        // Notices are keyed by the event that caused them, so each is sent once per recipient.
        this.attempts(noticeRecipients(this.t.contacts).map((r) => ({ contactId: r.id, kind: e.kind, channel: 'email', step: seq })));
        return;
    }
  }

  done(opened: boolean, reopen = false): Decision {
    return { ok: true, ticket: this.t, opened, events: this.events, effects: this.effects, reopen };
  }
}

export function enforcementReason(c: Command, ctx: Pick<EngineContext, 'actor' | 'reason' | 'resolutionTimeoutSeconds'>): string {
  if (c.type === 'deadline_passed') return `no resolution within ${ctx.resolutionTimeoutSeconds} s`;
  if (c.type === 'suspend_on_open') return ctx.reason ?? 'suspended when the ticket opened';
  const verb = c.type === 'suspend' ? 'suspended by' : c.type === 'resolve' ? 'resolved by' : c.type === 'dismiss' ? 'dismissed by' : `${c.type} by`;
  return `${verb} ${ctx.actor}${ctx.reason ? `: ${ctx.reason}` : ''}`;
}

const refused = (detail: string): Decision => ({ ok: false, reason: 'invalid_transition', detail });

/** The one entry point: what `event` does to `ticket` (null: the tenant has no open ticket; only a trip opens one). */
export function decide(ticket: TicketSnapshot | null, event: EngineEvent, ctx: EngineContext): Decision {
  if (event.type === 'trip') return decideTrip(ticket, event, ctx);
  if (!ticket) return refused(`${event.type.replace(/_/g, ' ')} needs a ticket`);
  if (event.type === 'call_ended') return decideCallEnded(ticket, event, ctx);
  if (event.type === 'acknowledged') return decideAcknowledged(ticket, event, ctx);
  if (event.type === 'sms_ended') return decideSmsEnded(ticket, event, ctx);
  if (event.type === 'sms_reply') return decideSmsReply(ticket, event, ctx);
  const d = new Draft(ticket, ctx);
  const command: Command = event.type === 'resolution_submitted' ? { type: 'resolution_submitted' } : event;
  const extra = event.type === 'resolution_submitted' ? { contactName: event.contactName } : {};
  const r = d.apply(command, ctx.reason ?? null, { ...extra, ...(ctx.data ?? {}) });
  if (!r.ok) return refused(r.detail);
  if (event.type === 'resolution_submitted') d.t = { ...d.t, resolution: { actionsTaken: event.actionsTaken, contactName: event.contactName, submittedAt: ctx.now } };
  return d.done(false);
}

/** How often a trip of the other rule family is recorded on an open ticket (see decideTrip). */
export const CROSS_TRIP_RECORD_SECONDS = 600;

/** Complaint reports and verdict counts are different figures: a trip of one family on a ticket of the other. */
export const isCrossTrip = (ticketRule: Rule, tripRule: Rule) => (tripRule === 'complaints') !== (ticketRule === 'complaints');

function decideTrip(open: TicketSnapshot | null, e: Extract<EngineEvent, { type: 'trip' }>, ctx: EngineContext): Decision {
  const shadow = ctx.policy.mode === 'shadow';
  if (open && open.state === 'shadow' && !shadow) {
    // A shadow ticket left open from before a switch to enforce mode gives way to a real one.
    const d = new Draft(open, ctx);
    d.record({ type: 'superseded', fromState: 'shadow', toState: 'dismissed', reason: 'the policy is in enforce mode now' });
    d.t = { ...d.t, state: 'dismissed', walking: false, closedAt: ctx.now };
    return d.done(false, true);
  }
  if (open) {
    // Later trips add evidence; a more severe one (a virus outbreak on top of spam) escalates, on the record.
    const escalate = e.trip.severity === 'critical' && open.severity === 'normal';
    // Complaints (issue 17) and verdict counts are different figures: a complaint trip on a ticket a verdict
    // rule opened (or the other way round) leaves the ticket's evidence as it is — its rule's words would not
    // fit the other figures — and goes on its record with its own evidence.
    // Such a rule trips again with every report or verdict batch while it stays over its line: its event is
    // recorded at most once per CROSS_TRIP_RECORD_SECONDS, so the record shows it and its figures as they grow
    // without a thousand copies of the evidence.
    if (!escalate && isCrossTrip(open.rule, e.trip.rule)) {
      const d = new Draft({ ...open, tripCount: open.tripCount + 1, lastTripAt: ctx.now }, ctx);
      const last = e.crossTripRecordedAt ?? null;
      if (!last || ctx.now.getTime() - last.getTime() >= CROSS_TRIP_RECORD_SECONDS * 1000) {
        d.record({ type: `${e.trip.rule}.tripped`, reason: `${e.trip.rule} rule tripped on the open ticket`, data: { evidence: e.evidence } });
      }
      return d.done(false);
    }
    const d = new Draft({ ...open, evidence: e.evidence, tripCount: open.tripCount + 1, lastTripAt: ctx.now, ...(escalate ? { severity: 'critical' as const, rule: e.trip.rule } : {}) }, ctx);
    if (escalate) d.record({ type: 'escalated', reason: `${e.trip.rule} rule tripped on the open ticket`, data: { evidence: e.evidence, severity: 'critical' } });
    return d.done(false);
  }
  const d = new Draft(
    {
      tenantId: e.tenantId,
      state: shadow ? 'shadow' : 'notifying',
      severity: e.trip.severity,
      rule: e.trip.rule,
      evidence: e.evidence,
      contacts: e.contacts,
      ...(e.trip.redial ? { redial: e.trip.redial } : {}),
      ...(e.trip.sms ? { sms: e.trip.sms } : {}),
      noContacts: e.contacts.length === 0,
      walkPosition: 0,
      walking: !shadow,
      deadlineAt: null,
      stateBeforeResolution: null,
      outboundDisabled: false,
      resolution: null,
      tripCount: 1,
      lastTripAt: ctx.now,
      eventSeq: 0,
      openedAt: ctx.now,
      closedAt: null,
    },
    ctx,
  );
  d.record({
    type: 'opened',
    toState: d.t.state,
    reason: `${e.trip.rule} rule tripped${shadow ? ' (shadow mode: nobody is contacted, nothing is suspended)' : ''}`,
    data: { evidence: e.evidence, severity: e.trip.severity },
  });
  if (shadow) return d.done(true);
  if (e.trip.suspendAtOnce) {
    // Outbound off in the transaction that opens the ticket, the event queued — and only then the walk.
    const reason = e.trip.severity === 'repeat' ? 'a repeat offence during probation' : `the ${e.trip.rule} rule suspends at once`;
    d.apply({ type: 'suspend_on_open' }, reason);
  }
  const plan = startWalk(e.contacts);
  d.walkTo(plan);
  if (plan.exhausted) d.apply({ type: 'walk_exhausted' }, e.contacts.length === 0 ? 'the tenant has no contacts' : 'no contact can be called');
  return d.done(true);
}

const ACK_WORDS: Record<AckChannel, string> = { key_press: 'pressed 1', link: 'acknowledged by the email link', sms: 'acknowledged by SMS', agent: 'was reached (recorded by an agent)' };

/**
 * A contact acknowledged without a live call: the same as pressing 1 — the walk stops, the deadline starts,
 * every live call ends, everyone is told. A TAM's acknowledgement is recorded but does not stop the walk
 * (SPEC §8); once the ticket is past `notifying` an acknowledgement changes nothing and is refused.
 */
function decideAcknowledged(t: TicketSnapshot, e: Extract<EngineEvent, { type: 'acknowledged' }>, ctx: EngineContext): Decision {
  const contact = t.contacts.find((c) => c.id === e.contactId);
  if (!contact) return refused('this contact is not on the ticket');
  if (!t.walking && t.state !== 'notifying') return refused(`the ticket is ${t.state.replace(/_/g, ' ')}: there is nothing left to acknowledge`);
  const d = new Draft(t, ctx);
  const words = `${contact.name} ${ACK_WORDS[e.channel]}`;
  const data = { contactId: contact.id, contactName: contact.name, channel: e.channel };
  if (contact.role === 'tam') {
    d.record({ type: 'acknowledged', reason: words, data });
    return d.done(false);
  }
  const r = d.apply({ type: 'contact_reached', contactId: contact.id }, words, data);
  if (!r.ok) return refused(r.detail);
  d.effects.push({ type: 'cancel_live_calls', exceptAttemptId: null });
  return d.done(false);
}

function decideCallEnded(t: TicketSnapshot, e: Extract<EngineEvent, { type: 'call_ended' }>, ctx: EngineContext): Decision {
  const { attempt: a, outcome } = e;
  const d = new Draft(t, ctx);
  d.record({ type: 'call.ended', reason: outcome, data: { attemptId: a.id, contactId: a.contactId, contactName: a.contactName, kind: a.kind, ...(e.detail ? { detail: e.detail } : {}) } });
  if (outcome === 'acknowledged') {
    // A TAM's acknowledgement is recorded but does not stop the walk (SPEC §8).
    if (a.kind !== 'call') return d.done(false);
    if (t.walking) d.apply({ type: 'contact_reached', contactId: a.contactId }, `${a.contactName} pressed 1`, { attemptId: a.id, contactId: a.contactId });
    d.effects.push({ type: 'cancel_live_calls', exceptAttemptId: a.id });
    return d.done(false);
  }
  // Only the result of the call the walk waits for moves it on; a late result of an earlier step does not.
  if (a.kind !== 'call' || !t.walking || a.step !== t.walkPosition) return d.done(false);
  const round = a.round ?? 1;
  const again = t.redial ? redialAfter(t.contacts, { position: a.step, round, outcome }, t.redial, ctx.now, t.deadlineAt) : null;
  if (again) {
    // The same contact again before the walk moves on (issue 16): no follow-up email yet, the walk waits.
    d.record({
      type: 'call.redial',
      reason: `${a.contactName}: call ${again.round} of ${t.redial!.callAttempts} in ${t.redial!.afterSeconds} s`,
      data: { contactId: a.contactId, contactName: a.contactName, round: again.round, afterSeconds: t.redial!.afterSeconds },
    });
    d.attempts([again]);
    return d.done(false);
  }
  moveOn(d, t, a.step, !!t.sms?.afterUnansweredCall);
  return d.done(false);
}

/** The walk step at `position` ended unanswered: follow-up (and SMS when asked), then the next contact. */
function moveOn(d: Draft, t: TicketSnapshot, position: number, smsAfterCall: boolean) {
  const plan = afterCall(t.contacts, position, { smsAfterCall });
  d.walkTo(plan);
  if (plan.exhausted) d.apply({ type: 'walk_exhausted' }, 'every contact was tried, nobody was reached');
}

/**
 * An SMS ended. Only the end of the walk's own SMS at the position the walk waits on moves it on (no
 * reply in time, not delivered, opted out, …); an acknowledgement by SMS is its own event, and an SMS
 * beside a follow-up email is only recorded.
 */
function decideSmsEnded(t: TicketSnapshot, e: Extract<EngineEvent, { type: 'sms_ended' }>, ctx: EngineContext): Decision {
  const { attempt: a, outcome } = e;
  const d = new Draft(t, ctx);
  d.record({ type: 'sms.ended', reason: outcome, data: { attemptId: a.id, contactId: a.contactId, contactName: a.contactName, kind: a.kind, ...(e.detail ? { detail: e.detail } : {}) } });
  if (a.kind !== 'sms' || outcome === 'acknowledged' || !t.walking || a.step !== t.walkPosition) return d.done(false);
  moveOn(d, t, a.step, false);
  return d.done(false);
}

/** A reply without the ticket's code: on the record, so an agent reads what the contact wrote. */
function decideSmsReply(t: TicketSnapshot, e: Extract<EngineEvent, { type: 'sms_reply' }>, ctx: EngineContext): Decision {
  const contact = t.contacts.find((c) => c.id === e.contactId);
  if (!contact) return refused('this contact is not on the ticket');
  const d = new Draft(t, ctx);
  d.record({ type: 'sms.reply', reason: e.body, data: { contactId: contact.id, contactName: contact.name } });
  return d.done(false);
}
