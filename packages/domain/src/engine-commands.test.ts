// The engine on commands (SPEC §6): every command in every state is either refused with a reason or
// accepted with its events, effects and record; probation follows any resolve, never a dismissal.
import { TICKET_STATES } from '@abuse-desk/contracts';
import t from 'tap';
import { decide } from './engine.js';
import type { Decision, EngineEffect, TicketCommand } from './ticket.js';
import { allowedActions, transition } from './ticket-state.js';
import { NOW, ctx, minutesAfter, ticketIn } from './engine.fixtures.js';

const accepted = (d: Decision) => {
  if (!d.ok) throw new Error(`refused: ${d.detail}`);
  return d;
};
const attemptsOf = (effects: EngineEffect[]) => effects.flatMap((e) => (e.type === 'create_attempts' ? e.attempts.map((a) => `${a.kind}:${a.contactId}:${a.step}`) : []));

const COMMANDS: Record<TicketCommand['type'], TicketCommand> = {
  contact_reached: { type: 'contact_reached', contactId: 'alice' },
  deadline_passed: { type: 'deadline_passed' },
  resolution_submitted: { type: 'resolution_submitted', actionsTaken: 'we locked the account', contactName: 'Alice' },
  reject_resolution: { type: 'reject_resolution' },
  resolve: { type: 'resolve' },
  dismiss: { type: 'dismiss' },
  suspend: { type: 'suspend' },
  extend: { type: 'extend', minutes: 30 },
  note: { type: 'note' },
};

t.test('every command in every state: refused as the state machine refuses it, else one numbered event', async (t) => {
  for (const state of TICKET_STATES) {
    for (const command of Object.values(COMMANDS)) {
      const before = ticketIn(state);
      const d = decide(before, command, ctx({ reason: 'why' }));
      const machine = transition(before, command.type === 'resolution_submitted' ? { type: 'resolution_submitted' } : command, ctx());
      t.equal(d.ok, machine.ok, `${command.type} while ${state}`);
      if (!d.ok) {
        t.match(d.detail, /is not allowed while the ticket is/);
        continue;
      }
      t.same(d.events.map((e) => [e.seq, e.type, e.fromState, e.reason, e.actor]), [[4, command.type, state, 'why', 'agent:dana']], `${command.type} while ${state}: its event`);
      t.equal(d.ticket.eventSeq, 4);
      t.equal(d.events[0]!.toState, d.ticket.state);
      t.equal(d.ticket.closedAt !== null, d.ticket.state === 'resolved' || d.ticket.state === 'dismissed', `${command.type} while ${state}: closed exactly when closed`);
      t.equal(d.opened, false);
    }
  }
});

t.test('the deadline suspends: mail off with the reason, notice to all, no deadline any more', async (t) => {
  const d = accepted(decide(ticketIn('awaiting_response'), { type: 'deadline_passed' }, ctx({ actor: 'system:enforcer' })));
  t.match(d.ticket, { state: 'suspended', outboundDisabled: true, deadlineAt: null });
  t.same(d.effects[0], { type: 'enforce', action: 'outbound.suspended', reason: 'no resolution within 3600 s' });
  t.same(attemptsOf(d.effects), ['suspension_notice:alice:4', 'suspension_notice:bob:4', 'suspension_notice:tina:4']);
});

t.test('a deadline that has not passed yet is refused', async (t) => {
  t.equal(decide(ticketIn('engaged', { deadlineAt: minutesAfter(NOW, 1) }), { type: 'deadline_passed' }, ctx()).ok, false);
});

t.test("the tenant's resolution is stored with the ticket, stops the deadline and the walk", async (t) => {
  const d = accepted(decide(ticketIn('notifying'), COMMANDS.resolution_submitted, ctx({ actor: 'tenant:Alice' })));
  t.match(d.ticket, { state: 'resolution_submitted', walking: false, deadlineAt: null, stateBeforeResolution: 'notifying', resolution: { actionsTaken: 'we locked the account', contactName: 'Alice', submittedAt: NOW } });
  t.same(d.effects, [{ type: 'cancel_pending_walk', kinds: ['call', 'followup', 'sms', 'sms_followup', 'tam_call'] }]);
  t.match(d.events[0]!.data, { contactName: 'Alice' });
});

t.test('a rejected resolution starts a new deadline, or returns to suspended', async (t) => {
  const engaged = accepted(decide(ticketIn('resolution_submitted'), { type: 'reject_resolution' }, ctx()));
  t.match(engaged.ticket, { state: 'engaged', deadlineAt: minutesAfter(NOW, 60) });
  const suspended = accepted(decide(ticketIn('resolution_submitted', { stateBeforeResolution: 'suspended', outboundDisabled: true }), { type: 'reject_resolution' }, ctx()));
  t.match(suspended.ticket, { state: 'suspended', deadlineAt: null });
});

t.test('resolving re-enables mail if it was off, tells everyone, and always starts probation', async (t) => {
  for (const [state, mailWasOff] of [['suspended', true], ['engaged', false], ['notifying', false]] as const) {
    const d = accepted(decide(ticketIn(state), { type: 'resolve' }, ctx({ reason: 'fixed', policy: { mode: 'enforce', probation: { hours: 12, factor: 0.25 } } })));
    t.match(d.ticket, { state: 'resolved', outboundDisabled: false, walking: false, closedAt: NOW });
    t.equal(d.effects.some((e) => e.type === 'enforce'), mailWasOff, `${state}: mail re-enabled only if it was off`);
    if (mailWasOff) t.match(d.effects.find((e) => e.type === 'enforce'), { action: 'outbound.reinstated', reason: 'resolved by agent:dana: fixed' });
    t.same(d.effects.at(-1), { type: 'start_probation', since: NOW, until: minutesAfter(NOW, 12 * 60), factor: 0.25, actor: 'agent:dana', reason: `resolved: thresholds × 0.25 until ${minutesAfter(NOW, 720).toISOString()}` }, `${state}: probation`);
    t.same(attemptsOf(d.effects), ['reinstatement_notice:alice:4', 'reinstatement_notice:bob:4', 'reinstatement_notice:tina:4']);
  }
});

t.test('without a probation rule, a resolve starts the default probation (24 h, half thresholds)', async (t) => {
  const d = accepted(decide(ticketIn('engaged'), { type: 'resolve' }, ctx()));
  t.match(d.effects.at(-1), { type: 'start_probation', until: minutesAfter(NOW, 24 * 60), factor: 0.5 });
});

t.test('a dismissal re-enables mail if it was off and starts no probation', async (t) => {
  const off = accepted(decide(ticketIn('suspended'), { type: 'dismiss' }, ctx({ reason: 'false positive' })));
  t.same(off.effects.map((e) => e.type), ['cancel_pending_walk', 'enforce', 'create_attempts']);
  t.match(off.effects[1], { action: 'outbound.reinstated', reason: 'dismissed by agent:dana: false positive' });
  const on = accepted(decide(ticketIn('engaged'), { type: 'dismiss' }, ctx()));
  t.same(on.effects.map((e) => e.type), ['cancel_pending_walk'], 'no notice when mail was never off');
  const shadow = accepted(decide(ticketIn('shadow'), { type: 'dismiss' }, ctx()));
  t.equal(shadow.ticket.state, 'dismissed');
});

t.test('an agent suspends now: mail off with the reason, the walk stops, notice to all', async (t) => {
  const d = accepted(decide(ticketIn('notifying'), { type: 'suspend' }, ctx({ reason: 'still sending' })));
  t.match(d.ticket, { state: 'suspended', outboundDisabled: true, walking: false });
  t.same(d.effects.map((e) => e.type), ['cancel_pending_walk', 'enforce', 'create_attempts']);
  t.match(d.effects[1], { action: 'outbound.suspended', reason: 'suspended by agent:dana: still sending' });
});

t.test('extending moves the deadline from the later of the deadline and now, and records the minutes', async (t) => {
  const d = accepted(decide(ticketIn('engaged', { deadlineAt: minutesAfter(NOW, 20) }), COMMANDS.extend, ctx({ reason: 'vendor' })));
  t.same(d.ticket.deadlineAt, minutesAfter(NOW, 50));
  t.same(d.events[0]!.data, { minutes: 30, deadlineAt: minutesAfter(NOW, 50).toISOString() });
  t.same(d.effects, []);
});

t.test('a note is an event and nothing else, in any state', async (t) => {
  for (const state of TICKET_STATES) {
    const d = accepted(decide(ticketIn(state), { type: 'note' }, ctx({ reason: 'called them' })));
    t.equal(d.ticket.state, state);
    t.same(d.effects, []);
  }
});

t.test('the allowed actions of a ticket are exactly the agent commands the engine accepts', async (t) => {
  const actionOf: Record<string, TicketCommand> = { 'contact-reached': COMMANDS.contact_reached, extend: COMMANDS.extend, suspend: COMMANDS.suspend, 'reject-resolution': COMMANDS.reject_resolution, resolve: COMMANDS.resolve, dismiss: COMMANDS.dismiss, notes: COMMANDS.note };
  for (const state of TICKET_STATES) {
    for (const deadline of [minutesAfter(NOW, -10), minutesAfter(NOW, 10)]) {
      const ticket = ticketIn(state, state === 'engaged' || state === 'awaiting_response' ? { deadlineAt: deadline } : {});
      const expected = Object.keys(actionOf).filter((a) => decide(ticket, actionOf[a]!, ctx()).ok).sort();
      t.same([...allowedActions(ticket)].sort(), expected, `${state}, deadline ${deadline < NOW ? 'passed' : 'running'}`);
    }
  }
  t.same(allowedActions(ticketIn('resolved')), ['notes']);
});
