// Ticket facts in each state and one of each command, for the state machine's unit tests.
import type { TicketState } from '@abuse-desk/contracts';
import type { Command, StateEffect, TicketFacts, Transition, TransitionContext } from './ticket-state.js';

export const NOW = new Date('2026-11-22T10:15:00.000Z');
export const TIMEOUT_SECONDS = 3600;
export const ctx: TransitionContext = { now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS };

export const minutesFromNow = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
export const IN_ONE_HOUR = new Date('2026-11-22T11:15:00.000Z');
export const TEN_MINUTES_AGO = new Date('2026-11-22T10:05:00.000Z');

export const ticket = (state: TicketState, facts: Partial<TicketFacts> = {}): TicketFacts => ({
  state,
  deadlineAt: null,
  stateBeforeResolution: null,
  outboundDisabled: false,
  walking: state === 'notifying',
  ...facts,
});

/** The ticket as it really looks in each state, with its deadline already passed where one runs. */
export const typical = (state: TicketState): TicketFacts => {
  switch (state) {
    case 'engaged':
    case 'awaiting_response':
      return ticket(state, { deadlineAt: TEN_MINUTES_AGO });
    case 'suspended':
      return ticket(state, { outboundDisabled: true });
    case 'resolution_submitted':
      return ticket(state, { stateBeforeResolution: 'engaged' });
    default:
      return ticket(state);
  }
};

/** The decision when the command is allowed; throws (failing the test) with the refusal otherwise. */
export const allowed = (d: Transition) => {
  if (!d.ok) throw new Error(`expected the command to be allowed, but it was refused: ${d.detail}`);
  return d;
};

export const stopWalk: StateEffect = { type: 'stop_walk' };
export const disableOutbound: StateEffect = { type: 'disable_outbound' };
export const enableOutbound: StateEffect = { type: 'enable_outbound' };
export const suspensionNotice: StateEffect = { type: 'notify', kind: 'suspension_notice', to: 'all' };
export const reinstatementNotice: StateEffect = { type: 'notify', kind: 'reinstatement_notice', to: 'all' };

// One of each command; the Record type makes the compiler insist that every command is listed.
export const COMMANDS: Record<Command['type'], Command> = {
  contact_reached: { type: 'contact_reached', contactId: 'contact-1' },
  walk_exhausted: { type: 'walk_exhausted' },
  suspend_on_open: { type: 'suspend_on_open' },
  deadline_passed: { type: 'deadline_passed' },
  resolution_submitted: { type: 'resolution_submitted' },
  reject_resolution: { type: 'reject_resolution' },
  resolve: { type: 'resolve' },
  dismiss: { type: 'dismiss' },
  suspend: { type: 'suspend' },
  extend: { type: 'extend', minutes: 30 },
  note: { type: 'note' },
};

// SPEC §6, written out: which commands each state accepts. Everything not listed is refused.
export const ALLOWED: Record<TicketState, readonly Command['type'][]> = {
  notifying: ['contact_reached', 'walk_exhausted', 'suspend_on_open', 'resolution_submitted', 'resolve', 'dismiss', 'suspend', 'note'],
  engaged: ['deadline_passed', 'resolution_submitted', 'resolve', 'dismiss', 'suspend', 'extend', 'note'],
  awaiting_response: ['deadline_passed', 'resolution_submitted', 'resolve', 'dismiss', 'suspend', 'extend', 'note'],
  suspended: ['resolution_submitted', 'resolve', 'dismiss', 'note'],
  resolution_submitted: ['resolution_submitted', 'reject_resolution', 'resolve', 'dismiss', 'suspend', 'note'],
  resolved: ['note'],
  dismissed: ['note'],
  shadow: ['dismiss', 'note'],
};
