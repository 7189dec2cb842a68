// The ticket lifecycle of SPEC §6, decided without a database: for each command, the state it leads to,
// the deadline it sets and the effects it asks the shell to carry out — and where it is refused.
import { OPEN_STATES, TICKET_STATES } from '@abuse-desk/contracts';
import type { TicketState } from '@abuse-desk/contracts';
import t from 'tap';
import { transition } from './ticket-state.js';
import type { Command, TransitionContext, Transition, StateEffect, TicketFacts } from './ticket-state.js';

const NOW = new Date('2026-11-22T10:15:00.000Z');
const TIMEOUT_SECONDS = 3600;
const ctx: TransitionContext = { now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS };

const minutesFromNow = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const IN_ONE_HOUR = new Date('2026-11-22T11:15:00.000Z');
const TEN_MINUTES_AGO = new Date('2026-11-22T10:05:00.000Z');

const ticket = (state: TicketState, facts: Partial<TicketFacts> = {}): TicketFacts => ({
  state,
  deadlineAt: null,
  stateBeforeResolution: null,
  outboundDisabled: false,
  walking: state === 'notifying',
  ...facts,
});

/** The ticket as it really looks in each state, with its deadline already passed where one runs. */
const typical = (state: TicketState): TicketFacts => {
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
const allowed = (d: Transition) => {
  if (!d.ok) throw new Error(`expected the command to be allowed, but it was refused: ${d.detail}`);
  return d;
};

const stopWalk: StateEffect = { type: 'stop_walk' };
const disableOutbound: StateEffect = { type: 'disable_outbound' };
const enableOutbound: StateEffect = { type: 'enable_outbound' };
const suspensionNotice: StateEffect = { type: 'notify', kind: 'suspension_notice', to: 'all' };
const reinstatementNotice: StateEffect = { type: 'notify', kind: 'reinstatement_notice', to: 'all' };

// One of each command; the Record type makes the compiler insist that every command is listed.
const COMMANDS: Record<Command['type'], Command> = {
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
const ALLOWED: Record<TicketState, readonly Command['type'][]> = {
  notifying: ['contact_reached', 'walk_exhausted', 'suspend_on_open', 'resolution_submitted', 'resolve', 'dismiss', 'suspend', 'note'],
  engaged: ['deadline_passed', 'resolution_submitted', 'resolve', 'dismiss', 'suspend', 'extend', 'note'],
  awaiting_response: ['deadline_passed', 'resolution_submitted', 'resolve', 'dismiss', 'suspend', 'extend', 'note'],
  suspended: ['resolution_submitted', 'resolve', 'dismiss', 'note'],
  resolution_submitted: ['resolution_submitted', 'reject_resolution', 'resolve', 'dismiss', 'suspend', 'note'],
  resolved: ['note'],
  dismissed: ['note'],
  shadow: ['dismiss', 'note'],
};

t.test('each state accepts exactly the commands of SPEC §6 and refuses every other one', async (t) => {
  t.same([...Object.keys(ALLOWED)].sort(), [...TICKET_STATES].sort(), 'the table covers every ticket state');
  for (const state of TICKET_STATES) {
    for (const command of Object.values(COMMANDS)) {
      const expected = ALLOWED[state].includes(command.type);
      const d = transition(typical(state), command, ctx);
      t.equal(d.ok, expected, `${command.type} while ${state} is ${expected ? 'allowed' : 'refused'}`);
      if (!d.ok) t.equal(d.reason, 'invalid_transition', `${command.type} while ${state} is refused as an invalid transition`);
    }
  }
});

t.test('a refusal says in words what was refused and in which state', async (t) => {
  t.same(transition(ticket('resolved'), { type: 'deadline_passed' }, ctx), {
    ok: false,
    reason: 'invalid_transition',
    detail: 'deadline passed is not allowed while the ticket is resolved',
  });
  const d = transition(ticket('awaiting_response', { deadlineAt: IN_ONE_HOUR }), { type: 'walk_exhausted' }, ctx);
  t.match(d, { ok: false, detail: 'walk exhausted is not allowed while the ticket is awaiting response' });
});

t.test('notifying', async (t) => {
  t.test('a contact pressing 1 while notifying engages the ticket, stops the walk, starts the deadline and tells every contact who acknowledged', async (t) => {
    const d = allowed(transition(ticket('notifying'), { type: 'contact_reached', contactId: 'contact-2' }, ctx));
    t.match(d.next, { state: 'engaged', deadlineAt: IN_ONE_HOUR, stateBeforeResolution: null, outboundDisabled: false });
    t.same(d.effects, [stopWalk, { type: 'notify', kind: 'confirmation', to: 'all' }]);
  });

  t.test('an agent recording a conversation without naming a contact engages the ticket and confirms to all contacts', async (t) => {
    const d = allowed(transition(ticket('notifying'), { type: 'contact_reached', contactId: null }, ctx));
    t.equal(d.next.state, 'engaged');
    t.same(d.next.deadlineAt, IN_ONE_HOUR);
    t.same(d.effects, [stopWalk, { type: 'notify', kind: 'confirmation', to: 'all' }]);
  });

  t.test('the deadline is now plus the configured resolution timeout', async (t) => {
    const d = allowed(transition(ticket('notifying'), { type: 'contact_reached', contactId: 'contact-1' }, { now: NOW, resolutionTimeoutSeconds: 900 }));
    t.same(d.next.deadlineAt, minutesFromNow(15));
  });

  t.test('every contact tried with nobody reached leaves the ticket awaiting a response, emails everyone the final notice and starts the deadline', async (t) => {
    const d = allowed(transition(ticket('notifying'), { type: 'walk_exhausted' }, ctx));
    t.match(d.next, { state: 'awaiting_response', deadlineAt: IN_ONE_HOUR, stateBeforeResolution: null, outboundDisabled: false });
    t.same(d.effects, [{ type: 'notify', kind: 'final', to: 'all' }], 'the final email goes to all contacts; the walk is already over');
  });

  t.test('a contact pressing 1 after the ticket left notifying changes nothing', async (t) => {
    for (const state of ['engaged', 'awaiting_response', 'suspended', 'resolution_submitted'] as const) {
      const d = transition(typical(state), { type: 'contact_reached', contactId: 'contact-1' }, ctx);
      t.match(d, { ok: false, reason: 'invalid_transition' }, `refused while ${state}`);
    }
  });
});

t.test('the resolution deadline', async (t) => {
  for (const state of ['engaged', 'awaiting_response'] as const) {
    t.test(`the deadline passing while ${state} suspends the ticket, disables outbound and notifies all contacts`, async (t) => {
      const d = allowed(transition(ticket(state, { deadlineAt: TEN_MINUTES_AGO }), { type: 'deadline_passed' }, ctx));
      t.match(d.next, { state: 'suspended', deadlineAt: null, stateBeforeResolution: null, outboundDisabled: true });
      t.same(d.effects, [disableOutbound, suspensionNotice]);
    });
  }

  t.test('a deadline reached at this very instant suspends', async (t) => {
    const d = allowed(transition(ticket('engaged', { deadlineAt: new Date(NOW) }), { type: 'deadline_passed' }, ctx));
    t.equal(d.next.state, 'suspended');
  });

  t.test('a deadline still in the future, even by a millisecond, does not suspend', async (t) => {
    for (const state of ['engaged', 'awaiting_response'] as const) {
      const d = transition(ticket(state, { deadlineAt: new Date(NOW.getTime() + 1) }), { type: 'deadline_passed' }, ctx);
      t.match(d, { ok: false, reason: 'invalid_transition' }, `refused while ${state}`);
    }
  });

  t.test('a ticket with no deadline cannot pass it', async (t) => {
    t.match(transition(ticket('engaged'), { type: 'deadline_passed' }, ctx), { ok: false, reason: 'invalid_transition' });
  });

  t.test('a passed deadline does not suspend a ticket outside engaged and awaiting_response', async (t) => {
    for (const state of TICKET_STATES.filter((s) => s !== 'engaged' && s !== 'awaiting_response')) {
      const d = transition(ticket(state, { deadlineAt: TEN_MINUTES_AGO, stateBeforeResolution: 'engaged' }), { type: 'deadline_passed' }, ctx);
      t.match(d, { ok: false, reason: 'invalid_transition' }, `refused while ${state}`);
    }
  });

  t.test('a suspension when outbound is already disabled does not disable it a second time', async (t) => {
    const d = allowed(transition(ticket('engaged', { deadlineAt: TEN_MINUTES_AGO, outboundDisabled: true }), { type: 'deadline_passed' }, ctx));
    t.equal(d.next.outboundDisabled, true);
    t.same(d.effects, [suspensionNotice]);
  });

  for (const state of ['engaged', 'awaiting_response'] as const) {
    t.test(`extending while ${state} adds the minutes to the running deadline, not to now`, async (t) => {
      const d = allowed(transition(ticket(state, { deadlineAt: minutesFromNow(20) }), { type: 'extend', minutes: 30 }, ctx));
      t.match(d.next, { state, deadlineAt: minutesFromNow(50), stateBeforeResolution: null, outboundDisabled: false });
      t.same(d.effects, [], 'an extension only moves the deadline');
    });
  }

  t.test('extensions add up', async (t) => {
    const once = allowed(transition(ticket('engaged', { deadlineAt: IN_ONE_HOUR }), { type: 'extend', minutes: 30 }, ctx));
    const twice = allowed(transition(once.next, { type: 'extend', minutes: 45 }, ctx));
    t.same(twice.next.deadlineAt, minutesFromNow(60 + 30 + 45));
  });

  t.test('extending a deadline that passed but was not yet enforced counts the minutes from now', async (t) => {
    const d = allowed(transition(ticket('awaiting_response', { deadlineAt: TEN_MINUTES_AGO }), { type: 'extend', minutes: 30 }, ctx));
    t.same(d.next.deadlineAt, minutesFromNow(30));
    t.equal(d.next.state, 'awaiting_response');
  });

  t.test('an extended deadline no longer counts as passed', async (t) => {
    const d = allowed(transition(ticket('engaged', { deadlineAt: TEN_MINUTES_AGO }), { type: 'extend', minutes: 5 }, ctx));
    t.match(transition(d.next, { type: 'deadline_passed' }, ctx), { ok: false, reason: 'invalid_transition' });
  });

  t.test('there is nothing to extend without a running deadline', async (t) => {
    t.match(transition(ticket('engaged'), { type: 'extend', minutes: 30 }, ctx), { ok: false, reason: 'invalid_transition' });
    for (const state of ['notifying', 'suspended', 'resolution_submitted', 'resolved', 'dismissed', 'shadow'] as const) {
      const d = transition(ticket(state, { deadlineAt: IN_ONE_HOUR }), { type: 'extend', minutes: 30 }, ctx);
      t.match(d, { ok: false, reason: 'invalid_transition' }, `refused while ${state}`);
    }
  });
});

t.test('resolutions', async (t) => {
  for (const state of OPEN_STATES.filter((s) => s !== 'resolution_submitted')) {
    t.test(`the tenant submitting a resolution while ${state} puts it under review, remembers ${state} and stops the walk`, async (t) => {
      const disabled = state === 'suspended';
      const d = allowed(transition(ticket(state, { outboundDisabled: disabled }), { type: 'resolution_submitted' }, ctx));
      t.equal(d.next.state, 'resolution_submitted');
      t.equal(d.next.stateBeforeResolution, state);
      t.equal(d.next.outboundDisabled, disabled, 'outbound stays as it was until an agent decides');
      t.same(d.effects, [stopWalk]);
    });
  }

  t.test('a deadline that runs out while a resolution is under review does not suspend the ticket', async (t) => {
    const d = allowed(transition(ticket('engaged', { deadlineAt: minutesFromNow(5) }), { type: 'resolution_submitted' }, ctx));
    const later: TransitionContext = { ...ctx, now: minutesFromNow(90) };
    t.match(transition(d.next, { type: 'deadline_passed' }, later), { ok: false, reason: 'invalid_transition' });
  });

  t.test('a second submission while one is under review keeps the state the first came from', async (t) => {
    const d = allowed(transition(ticket('resolution_submitted', { stateBeforeResolution: 'suspended', outboundDisabled: true }), { type: 'resolution_submitted' }, ctx));
    t.equal(d.next.state, 'resolution_submitted');
    t.equal(d.next.stateBeforeResolution, 'suspended');
  });

  for (const before of ['notifying', 'engaged', 'awaiting_response'] as const) {
    t.test(`rejecting a resolution submitted while ${before} returns the ticket to engaged with a new deadline`, async (t) => {
      const d = allowed(transition(ticket('resolution_submitted', { stateBeforeResolution: before, deadlineAt: TEN_MINUTES_AGO }), { type: 'reject_resolution' }, ctx));
      t.match(d.next, { state: 'engaged', deadlineAt: IN_ONE_HOUR, stateBeforeResolution: null, outboundDisabled: false });
      t.same(d.effects, []);
    });
  }

  t.test('rejecting a resolution submitted while suspended returns the ticket to suspended, with no deadline and outbound still disabled', async (t) => {
    const d = allowed(transition(ticket('resolution_submitted', { stateBeforeResolution: 'suspended', outboundDisabled: true }), { type: 'reject_resolution' }, ctx));
    t.match(d.next, { state: 'suspended', deadlineAt: null, stateBeforeResolution: null, outboundDisabled: true });
    t.same(d.effects, [], 'outbound is already disabled: nothing to do again');
  });

  t.test('rejecting a resolution on a ticket that disabled outbound returns it to suspended even when the earlier state is unknown', async (t) => {
    const d = allowed(transition(ticket('resolution_submitted', { stateBeforeResolution: null, outboundDisabled: true }), { type: 'reject_resolution' }, ctx));
    t.equal(d.next.state, 'suspended');
    t.equal(d.next.deadlineAt, null);
  });

  t.test('a resolution can only be rejected while one is under review', async (t) => {
    for (const state of TICKET_STATES.filter((s) => s !== 'resolution_submitted')) {
      const d = transition(ticket(state, { stateBeforeResolution: 'engaged' }), { type: 'reject_resolution' }, ctx);
      t.match(d, { ok: false, reason: 'invalid_transition' }, `refused while ${state}`);
    }
  });

  t.test('a resolution cannot be submitted for a closed ticket or a shadow ticket', async (t) => {
    for (const state of ['resolved', 'dismissed', 'shadow'] as const) {
      t.match(transition(ticket(state), { type: 'resolution_submitted' }, ctx), { ok: false, reason: 'invalid_transition' }, `refused while ${state}`);
    }
  });
});

t.test('closing a ticket', async (t) => {
  for (const state of OPEN_STATES.filter((s) => s !== 'suspended')) {
    t.test(`resolving a ticket while ${state} closes it, stops the walk and notifies the contacts, with no outbound to re-enable`, async (t) => {
      const d = allowed(transition(ticket(state, { deadlineAt: IN_ONE_HOUR, stateBeforeResolution: state === 'resolution_submitted' ? 'engaged' : null }), { type: 'resolve' }, ctx));
      t.equal(d.next.state, 'resolved');
      t.equal(d.next.deadlineAt, null, 'no deadline runs on a closed ticket');
      t.equal(d.next.outboundDisabled, false);
      t.same(d.effects, [stopWalk, reinstatementNotice]);
    });
  }

  t.test('resolving a suspended ticket re-enables outbound and sends the reinstatement notice', async (t) => {
    const d = allowed(transition(ticket('suspended', { outboundDisabled: true }), { type: 'resolve' }, ctx));
    t.match(d.next, { state: 'resolved', deadlineAt: null, stateBeforeResolution: null, outboundDisabled: false });
    t.same(d.effects, [stopWalk, enableOutbound, reinstatementNotice]);
  });

  t.test('resolving a resolution submitted while suspended re-enables outbound', async (t) => {
    const d = allowed(transition(ticket('resolution_submitted', { stateBeforeResolution: 'suspended', outboundDisabled: true }), { type: 'resolve' }, ctx));
    t.equal(d.next.state, 'resolved');
    t.equal(d.next.outboundDisabled, false);
    t.same(d.effects, [stopWalk, enableOutbound, reinstatementNotice]);
  });

  for (const state of [...OPEN_STATES.filter((s) => s !== 'suspended'), 'shadow' as const]) {
    t.test(`dismissing a ticket while ${state} closes it quietly: the walk stops, nobody is notified, outbound is untouched`, async (t) => {
      const d = allowed(transition(ticket(state, { deadlineAt: IN_ONE_HOUR }), { type: 'dismiss' }, ctx));
      t.equal(d.next.state, 'dismissed');
      t.equal(d.next.deadlineAt, null);
      t.equal(d.next.outboundDisabled, false);
      t.same(d.effects, [stopWalk]);
    });
  }

  t.test('dismissing a suspended ticket re-enables outbound and tells the contacts', async (t) => {
    const d = allowed(transition(ticket('suspended', { outboundDisabled: true }), { type: 'dismiss' }, ctx));
    t.match(d.next, { state: 'dismissed', deadlineAt: null, stateBeforeResolution: null, outboundDisabled: false });
    t.same(d.effects, [stopWalk, enableOutbound, reinstatementNotice]);
  });

  t.test('a closed ticket cannot be resolved, dismissed or suspended again', async (t) => {
    for (const state of ['resolved', 'dismissed'] as const) {
      for (const type of ['resolve', 'dismiss', 'suspend'] as const) {
        t.match(transition(ticket(state), { type }, ctx), { ok: false, reason: 'invalid_transition' }, `${type} refused while ${state}`);
      }
    }
  });

  t.test('a shadow ticket can only be dismissed: it is never resolved or suspended', async (t) => {
    t.match(transition(ticket('shadow'), { type: 'resolve' }, ctx), { ok: false, reason: 'invalid_transition' });
    t.match(transition(ticket('shadow'), { type: 'suspend' }, ctx), { ok: false, reason: 'invalid_transition' });
  });
});

t.test('an agent suspending now', async (t) => {
  for (const state of ['notifying', 'engaged', 'awaiting_response', 'resolution_submitted'] as const) {
    t.test(`suspending while ${state} stops the walk and the deadline, disables outbound and notifies all contacts`, async (t) => {
      const d = allowed(transition(ticket(state, { deadlineAt: IN_ONE_HOUR, stateBeforeResolution: state === 'resolution_submitted' ? 'engaged' : null }), { type: 'suspend' }, ctx));
      t.match(d.next, { state: 'suspended', deadlineAt: null, stateBeforeResolution: null, outboundDisabled: true });
      t.same(d.effects, [stopWalk, disableOutbound, suspensionNotice]);
    });
  }

  t.test('a resolution submitted while suspended cannot be suspended again (outbound is already disabled)', async (t) => {
    t.match(transition(ticket('resolution_submitted', { stateBeforeResolution: 'suspended', outboundDisabled: true }), { type: 'suspend' }, ctx), { ok: false, reason: 'invalid_transition' });
  });

  t.test('a suspended ticket cannot be suspended again', async (t) => {
    t.match(transition(ticket('suspended', { outboundDisabled: true }), { type: 'suspend' }, ctx), { ok: false, reason: 'invalid_transition' });
  });
});

t.test('a note is allowed in every state and changes nothing', async (t) => {
  for (const state of TICKET_STATES) {
    const facts = typical(state);
    const d = allowed(transition(facts, { type: 'note' }, ctx));
    t.same(d.next, facts, `a note while ${state} leaves the ticket as it was`);
    t.same(d.effects, [], `a note while ${state} has no effect`);
  }
});

t.test('deciding never changes the ticket it was given', async (t) => {
  for (const state of TICKET_STATES) {
    for (const command of Object.values(COMMANDS)) {
      const facts = typical(state);
      const before = structuredClone(facts);
      transition(facts, command, ctx);
      t.same(facts, before, `${command.type} while ${state}`);
    }
  }
});

t.test('the path to suspension and back: nobody reached, deadline passes, a rejected fix, then a resolution re-enables outbound', async (t) => {
  let facts = ticket('notifying');
  const step = (command: Command, now = NOW) => {
    const d = allowed(transition(facts, command, { now, resolutionTimeoutSeconds: TIMEOUT_SECONDS }));
    facts = d.next;
    return d.effects;
  };

  step({ type: 'walk_exhausted' });
  t.same(facts.deadlineAt, IN_ONE_HOUR);
  t.same(step({ type: 'deadline_passed' }, IN_ONE_HOUR), [disableOutbound, suspensionNotice]);
  step({ type: 'resolution_submitted' }, minutesFromNow(70));
  t.equal(facts.stateBeforeResolution, 'suspended');
  t.same(step({ type: 'reject_resolution' }, minutesFromNow(80)), []);
  t.equal(facts.state, 'suspended', 'a rejected fix leaves outbound disabled');
  step({ type: 'resolution_submitted' }, minutesFromNow(90));
  t.same(step({ type: 'resolve' }, minutesFromNow(95)), [stopWalk, enableOutbound, reinstatementNotice]);
  t.match(facts, { state: 'resolved', deadlineAt: null, outboundDisabled: false });
});

t.test('the engaged path: a contact presses 1, a rejected fix restarts the clock from the rejection', async (t) => {
  let facts = ticket('notifying');
  const step = (command: Command, now: Date) => {
    const d = allowed(transition(facts, command, { now, resolutionTimeoutSeconds: TIMEOUT_SECONDS }));
    facts = d.next;
    return d.effects;
  };

  step({ type: 'contact_reached', contactId: 'contact-1' }, NOW);
  step({ type: 'resolution_submitted' }, minutesFromNow(20));
  step({ type: 'reject_resolution' }, minutesFromNow(40));
  t.equal(facts.state, 'engaged');
  t.same(facts.deadlineAt, minutesFromNow(40 + 60), 'a full timeout from the rejection');
  t.equal(facts.outboundDisabled, false);
});
