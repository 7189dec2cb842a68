// The ticket lifecycle of SPEC §6 as a state machine: (ticket facts, command, now) → next facts and the
// kinds of effect (stop the walk, mail off or on, notices), or a refusal. engine.ts turns these into rows;
// nothing here does I/O.
import type { TicketAction, TicketState } from '@abuse-desk/contracts';
import { CLOSED_STATES, DEADLINE_STATES, OPEN_STATES, TICKET_ACTIONS } from '@abuse-desk/contracts';

export interface TicketFacts {
  state: TicketState;
  deadlineAt: Date | null;
  /** The state a submitted resolution came from, so a rejection can return there. */
  stateBeforeResolution: TicketState | null;
  /** Whether this ticket disabled the tenant's outbound mail (and must re-enable it). */
  outboundDisabled: boolean;
  /** Whether the contact walk runs; a ticket suspended at once (critical, repeat) walks while suspended. */
  walking: boolean;
}

export type Command =
  | { type: 'contact_reached'; contactId: string | null }
  | { type: 'walk_exhausted' }
  /** A trip whose policy suspends at once (critical with action suspend, a repeat offence on probation). */
  | { type: 'suspend_on_open' }
  | { type: 'deadline_passed' }
  | { type: 'resolution_submitted' }
  | { type: 'reject_resolution' }
  | { type: 'resolve' }
  | { type: 'dismiss' }
  | { type: 'suspend' }
  | { type: 'extend'; minutes: number }
  | { type: 'note' };

export type NoticeKind = 'confirmation' | 'final' | 'suspension_notice' | 'reinstatement_notice';

export type StateEffect =
  | { type: 'stop_walk' }
  | { type: 'disable_outbound' }
  | { type: 'enable_outbound' }
  | { type: 'notify'; kind: NoticeKind; to: 'all' | { contactId: string } };

export type Transition =
  | { ok: true; next: TicketFacts; effects: StateEffect[] }
  | { ok: false; reason: 'invalid_transition'; detail: string };

export interface TransitionContext {
  now: Date;
  resolutionTimeoutSeconds: number;
}

export const isOpen = (s: TicketState) => OPEN_STATES.includes(s);
export const isClosed = (s: TicketState) => CLOSED_STATES.includes(s);
export { CLOSED_STATES, DEADLINE_STATES, OPEN_STATES };

const refuse = (t: TicketFacts, c: Command): Transition => ({
  ok: false,
  reason: 'invalid_transition',
  detail: `${c.type.replace(/_/g, ' ')} is not allowed while the ticket is ${t.state.replace(/_/g, ' ')}`,
});

export function transition(t: TicketFacts, c: Command, ctx: TransitionContext): Transition {
  const deadline = () => new Date(ctx.now.getTime() + ctx.resolutionTimeoutSeconds * 1000);
  const ok = (next: Partial<TicketFacts>, effects: StateEffect[] = []): Transition => ({ ok: true, next: { ...t, ...next }, effects });
  const reinstate = (): StateEffect[] => (t.outboundDisabled ? [{ type: 'enable_outbound' }] : []);

  switch (c.type) {
    case 'contact_reached':
      // Suspended at once and still walking: the contact is reached, the walk stops, mail stays off.
      if (t.state === 'suspended' && t.walking) return ok({ walking: false }, [{ type: 'stop_walk' }, { type: 'notify', kind: 'confirmation', to: 'all' }]);
      if (t.state !== 'notifying') return refuse(t, c);
      return ok({ state: 'engaged', deadlineAt: deadline(), walking: false }, [
        { type: 'stop_walk' },
        // Everyone is told who acknowledged, so nobody duplicates the work (the TAM included).
        { type: 'notify', kind: 'confirmation', to: 'all' },
      ]);
    case 'walk_exhausted':
      if (t.state === 'suspended' && t.walking) return ok({ walking: false }, [{ type: 'notify', kind: 'final', to: 'all' }]);
      if (t.state !== 'notifying') return refuse(t, c);
      return ok({ state: 'awaiting_response', deadlineAt: deadline(), walking: false }, [{ type: 'notify', kind: 'final', to: 'all' }]);
    case 'suspend_on_open':
      // The one-hour timer does not apply: mail is off from the start, and the walk goes on.
      if (t.state !== 'notifying') return refuse(t, c);
      return ok({ state: 'suspended', deadlineAt: null, outboundDisabled: true }, [
        ...(t.outboundDisabled ? [] : [{ type: 'disable_outbound' } as const]),
        { type: 'notify', kind: 'suspension_notice', to: 'all' },
      ]);
    case 'deadline_passed':
      if (!DEADLINE_STATES.includes(t.state) || !t.deadlineAt || t.deadlineAt > ctx.now) return refuse(t, c);
      return ok({ state: 'suspended', deadlineAt: null, outboundDisabled: true }, [
        ...(t.outboundDisabled ? [] : [{ type: 'disable_outbound' } as const]),
        { type: 'notify', kind: 'suspension_notice', to: 'all' },
      ]);
    case 'resolution_submitted':
      if (!isOpen(t.state)) return refuse(t, c);
      // The deadline stops while an agent reviews the fix; a rejection starts a new one.
      return ok({ state: 'resolution_submitted', deadlineAt: null, walking: false, stateBeforeResolution: t.state === 'resolution_submitted' ? t.stateBeforeResolution : t.state }, [
        { type: 'stop_walk' },
      ]);
    case 'reject_resolution':
      if (t.state !== 'resolution_submitted') return refuse(t, c);
      if (t.stateBeforeResolution === 'suspended' || t.outboundDisabled) return ok({ state: 'suspended', deadlineAt: null, stateBeforeResolution: null });
      return ok({ state: 'engaged', deadlineAt: deadline(), stateBeforeResolution: null });
    case 'resolve':
      if (!isOpen(t.state)) return refuse(t, c);
      return ok({ state: 'resolved', deadlineAt: null, outboundDisabled: false, walking: false }, [
        { type: 'stop_walk' },
        ...reinstate(),
        { type: 'notify', kind: 'reinstatement_notice', to: 'all' },
      ]);
    case 'dismiss':
      if (!isOpen(t.state) && t.state !== 'shadow') return refuse(t, c);
      return ok({ state: 'dismissed', deadlineAt: null, outboundDisabled: false, walking: false }, [
        { type: 'stop_walk' },
        ...reinstate(),
        ...(t.outboundDisabled ? [{ type: 'notify', kind: 'reinstatement_notice', to: 'all' } as const] : []),
      ]);
    case 'suspend':
      if (!isOpen(t.state) || t.state === 'suspended' || t.outboundDisabled) return refuse(t, c);
      return ok({ state: 'suspended', deadlineAt: null, stateBeforeResolution: null, outboundDisabled: true, walking: false }, [
        { type: 'stop_walk' },
        ...(t.outboundDisabled ? [] : [{ type: 'disable_outbound' } as const]),
        { type: 'notify', kind: 'suspension_notice', to: 'all' },
      ]);
    case 'extend': {
      if (!DEADLINE_STATES.includes(t.state) || !t.deadlineAt) return refuse(t, c);
      const from = Math.max(t.deadlineAt.getTime(), ctx.now.getTime());
      return ok({ deadlineAt: new Date(from + c.minutes * 60_000) });
    }
    case 'note':
      return ok({});
  }
}

/** The agent actions of the API (SPEC §7) and the command each one is; notes are always allowed. */
const ACTION_COMMANDS: Record<Exclude<TicketAction, 'notes'>, Command> = {
  'contact-reached': { type: 'contact_reached', contactId: null },
  extend: { type: 'extend', minutes: 1 },
  suspend: { type: 'suspend' },
  'reject-resolution': { type: 'reject_resolution' },
  resolve: { type: 'resolve' },
  dismiss: { type: 'dismiss' },
};

/**
 * The actions an agent may take on a ticket: exactly those the state machine accepts, so the UI offers
 * no button the API would refuse. Whether an agent command is accepted depends on the ticket's facts
 * only, never on the time (the time only sets the new deadline), so no clock is needed here.
 */
export function allowedActions(t: TicketFacts): TicketAction[] {
  const ctx: TransitionContext = { now: t.deadlineAt ?? new Date(0), resolutionTimeoutSeconds: 0 };
  return TICKET_ACTIONS.filter((a) => a === 'notes' || transition(t, ACTION_COMMANDS[a], ctx).ok);
}

/** The deadline an acknowledgement now would start (what a call tells the person it reaches), or null. */
export function deadlineIfAcknowledgedNow(t: Pick<TicketFacts, 'state' | 'deadlineAt'>, ctx: TransitionContext): Date | null {
  const r = transition({ state: t.state, deadlineAt: t.deadlineAt, stateBeforeResolution: null, outboundDisabled: false, walking: true }, { type: 'contact_reached', contactId: null }, ctx);
  return r.ok && !t.deadlineAt ? r.next.deadlineAt : null;
}
