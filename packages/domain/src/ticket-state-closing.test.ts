// The ticket lifecycle of SPEC §6, decided without a database: resolutions, closing a ticket and an
// agent suspending now.
import t from 'tap';
import { transition } from './ticket-state.js';
import type { Command, TransitionContext } from './ticket-state.js';
import { OPEN_STATES, TICKET_STATES } from '@abuse-desk/contracts';
import { NOW, TIMEOUT_SECONDS, ctx, minutesFromNow, IN_ONE_HOUR, TEN_MINUTES_AGO, ticket, typical, allowed, stopWalk, disableOutbound, enableOutbound, suspensionNotice, reinstatementNotice, COMMANDS } from './ticket-state.fixtures.js';

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
