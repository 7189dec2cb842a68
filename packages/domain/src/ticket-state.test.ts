// The ticket lifecycle of SPEC §6, decided without a database: for each command, the state it leads to,
// the deadline it sets and the effects it asks the shell to carry out — and where it is refused.
import t from 'tap';
import { deadlineIfAcknowledgedNow, transition } from './ticket-state.js';
import { TICKET_STATES } from '@abuse-desk/contracts';
import { NOW, ctx, minutesFromNow, IN_ONE_HOUR, TEN_MINUTES_AGO, ticket, typical, allowed, stopWalk, disableOutbound, suspensionNotice, COMMANDS, ALLOWED } from './ticket-state.fixtures.js';

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

t.test('the deadline an acknowledgement now would start: only while notifying, and only without a deadline', async (t) => {
  t.same(deadlineIfAcknowledgedNow({ state: 'notifying', deadlineAt: null }, ctx), IN_ONE_HOUR);
  t.equal(deadlineIfAcknowledgedNow({ state: 'suspended', deadlineAt: null }, ctx), null, 'suspended at once: no deadline to start');
  t.equal(deadlineIfAcknowledgedNow({ state: 'engaged', deadlineAt: IN_ONE_HOUR }, ctx), null, 'a deadline already runs');
  t.equal(deadlineIfAcknowledgedNow({ state: 'resolved', deadlineAt: null }, ctx), null);
});
