// The engine on a trip (SPEC §5, §6): a new ticket and its walk, a tenant without contacts, shadow mode, a
// trip that suspends at once, later trips on an open ticket, and a shadow ticket superseded by a real one.
import t from 'tap';
import { CROSS_TRIP_RECORD_SECONDS, decide } from './engine.js';
import type { Decision, EngineEffect } from './ticket.js';
import { CONTACTS, EVIDENCE, NOW, TIMEOUT_SECONDS, ctx, minutesAfter, ticketIn, tripEvent } from './engine.fixtures.js';

const accepted = (d: Decision) => {
  if (!d.ok) throw new Error(`refused: ${d.detail}`);
  return d;
};
const attemptsOf = (effects: EngineEffect[]) => effects.flatMap((e) => (e.type === 'create_attempts' ? e.attempts.map((a) => `${a.kind}:${a.contactId}:${a.step}`) : []));
const typesOf = (effects: EngineEffect[]) => effects.map((e) => e.type);

t.test('a trip with no open ticket opens one in notifying, briefs the TAM and calls the first contact', async (t) => {
  const d = accepted(decide(null, tripEvent(), ctx({ actor: 'system:counter' })));
  t.equal(d.opened, true);
  t.match(d.ticket, { tenantId: 'acme', state: 'notifying', walking: true, severity: 'normal', rule: 'spam', walkPosition: 0, tripCount: 1, eventSeq: 1, deadlineAt: null, closedAt: null, noContacts: false });
  t.same(d.events.map((e) => [e.seq, e.type, e.fromState, e.toState, e.actor]), [[1, 'opened', null, 'notifying', 'system:counter']]);
  t.same(d.events[0]!.data, { evidence: EVIDENCE, severity: 'normal' });
  t.same(attemptsOf(d.effects), ['tam_briefing:tina:0', 'call:alice:0']);
  const call = d.effects.flatMap((e) => (e.type === 'create_attempts' ? e.attempts : [])).find((a) => a.kind === 'call')!;
  t.match(call, { channel: 'voice', address: CONTACTS[0]!.phone, contactName: 'Alice' }, 'an attempt carries the address it will use');
});

t.test('a tenant without contacts gets a ticket that waits for a response at once, with the deadline running', async (t) => {
  const d = accepted(decide(null, tripEvent({}, []), ctx()));
  t.match(d.ticket, { state: 'awaiting_response', walking: false, noContacts: true, deadlineAt: minutesAfter(NOW, TIMEOUT_SECONDS / 60) });
  t.same(d.events.map((e) => [e.seq, e.type, e.reason]), [[1, 'opened', 'spam rule tripped'], [2, 'walk_exhausted', 'the tenant has no contacts']]);
  t.same(attemptsOf(d.effects), [], 'nobody to email');
});

t.test('contacts that can be emailed but not called get the follow-up at once, and the walk is exhausted', async (t) => {
  const emailOnly = CONTACTS.map((c) => ({ ...c, phone: null }));
  const d = accepted(decide(null, tripEvent({}, emailOnly), ctx()));
  t.equal(d.ticket.state, 'awaiting_response');
  t.same(attemptsOf(d.effects), ['tam_briefing:tina:0', 'followup:alice:0', 'followup:bob:1', 'final:alice:2', 'final:bob:2', 'final:tina:2'], 'the final email is keyed by its event');
  t.equal(d.events[1]!.reason, 'no contact can be called');
});

t.test('shadow mode records the ticket and contacts nobody', async (t) => {
  const d = accepted(decide(null, tripEvent(), ctx({ policy: { mode: 'shadow' } })));
  t.match(d.ticket, { state: 'shadow', walking: false });
  t.match(d.events, [{ type: 'opened', toState: 'shadow', reason: /shadow mode/ }]);
  t.same(d.effects, [], 'no attempt, no enforcement');
});

t.test('a trip that suspends at once disables mail in the opening decision, then walks', async (t) => {
  const d = accepted(decide(null, tripEvent({ rule: 'virus', severity: 'critical', suspendAtOnce: true }), ctx({ actor: 'system:counter' })));
  t.match(d.ticket, { state: 'suspended', outboundDisabled: true, walking: true, deadlineAt: null, severity: 'critical' });
  t.same(d.events.map((e) => [e.seq, e.type, e.toState]), [[1, 'opened', 'notifying'], [2, 'suspend_on_open', 'suspended']]);
  t.same(typesOf(d.effects), ['enforce', 'create_attempts', 'create_attempts']);
  t.same(d.effects[0], { type: 'enforce', action: 'outbound.suspended', reason: 'the virus rule suspends at once' });
  t.same(attemptsOf(d.effects), ['suspension_notice:alice:2', 'suspension_notice:bob:2', 'suspension_notice:tina:2', 'tam_briefing:tina:0', 'call:alice:0']);
});

t.test('a repeat offence on probation is suspended at once, and says why', async (t) => {
  const d = accepted(decide(null, tripEvent({ severity: 'repeat', suspendAtOnce: true }), ctx()));
  t.match(d.effects[0], { type: 'enforce', action: 'outbound.suspended', reason: 'a repeat offence during probation' });
  t.equal(d.ticket.severity, 'repeat');
});

t.test('a later trip adds its evidence to the open ticket without an event or effect', async (t) => {
  const open = ticketIn('engaged');
  const evidence = { ...EVIDENCE, total: 500 };
  const d = accepted(decide(open, { ...tripEvent(), evidence }, ctx()));
  t.equal(d.opened, false);
  t.match(d.ticket, { state: 'engaged', tripCount: 2, lastTripAt: NOW, eventSeq: open.eventSeq, evidence: { total: 500 } });
  t.same(d.events, []);
  t.same(d.effects, []);
});

t.test('a virus trip on an open spam ticket escalates it to critical, on the record', async (t) => {
  const d = accepted(decide(ticketIn('notifying'), tripEvent({ rule: 'virus', severity: 'critical' }), ctx()));
  t.match(d.ticket, { severity: 'critical', rule: 'virus', state: 'notifying', tripCount: 2 });
  t.match(d.events, [{ seq: 4, type: 'escalated', reason: 'virus rule tripped on the open ticket' }]);
});

t.test('a critical trip on a critical or repeat ticket does not escalate again', async (t) => {
  for (const severity of ['critical', 'repeat'] as const) {
    const d = accepted(decide(ticketIn('notifying', { severity }), tripEvent({ rule: 'virus', severity: 'critical' }), ctx()));
    t.equal(d.ticket.severity, severity);
    t.same(d.events, [], severity);
  }
});

t.test('a trip in enforce mode closes an open shadow ticket and asks for a new one', async (t) => {
  const shadow = ticketIn('shadow');
  const d = accepted(decide(shadow, tripEvent(), ctx()));
  t.equal(d.reopen, true, 'the store decides the trip again with no ticket');
  t.match(d.ticket, { state: 'dismissed', closedAt: NOW });
  t.match(d.events, [{ type: 'superseded', fromState: 'shadow', toState: 'dismissed', reason: 'the policy is in enforce mode now' }]);
  const next = accepted(decide(null, tripEvent(), ctx()));
  t.equal(next.ticket.state, 'notifying');
});

t.test('a trip in shadow mode on an open shadow ticket only adds evidence', async (t) => {
  const d = accepted(decide(ticketIn('shadow'), tripEvent(), ctx({ policy: { mode: 'shadow' } })));
  t.match(d.ticket, { state: 'shadow', tripCount: 2 });
  t.equal(d.reopen, false);
});

t.test('every event but a trip needs a ticket', async (t) => {
  t.match(decide(null, { type: 'resolve' }, ctx()), { ok: false, reason: 'invalid_transition', detail: 'resolve needs a ticket' });
});

t.test('a complaints trip on a ticket another rule opened keeps that ticket’s evidence and goes on its record, at most every ten minutes', async (t) => {
  const open = ticketIn('engaged');
  const complaintEvidence = { ...EVIDENCE, rule: 'complaints' as const, ratio: 0.03, complaints: { count: 3, feedbackTypes: { abuse: 3 }, topSenders: [], topSubjects: [], samples: [] } };
  const d = decide(open, { ...tripEvent({ rule: 'complaints' }), evidence: complaintEvidence }, ctx({ actor: 'system:intake' }));
  if (!d.ok) throw new Error(d.detail);
  t.equal(d.ticket.evidence, open.evidence, 'the spam evidence stays');
  t.equal(d.ticket.rule, 'spam');
  t.equal(d.ticket.tripCount, open.tripCount + 1);
  t.match(d.events, [{ type: 'complaints.tripped', reason: 'complaints rule tripped on the open ticket', data: { evidence: { rule: 'complaints', complaints: { count: 3 } } } }]);
  t.same(d.effects, []);
  const again = decide({ ...open, rule: 'complaints', evidence: complaintEvidence }, { ...tripEvent({ rule: 'complaints' }), evidence: { ...complaintEvidence, ratio: 0.05 } }, ctx({ actor: 'system:intake' }));
  if (!again.ok) throw new Error(again.detail);
  t.equal(again.ticket.evidence.ratio, 0.05, 'a complaints ticket takes the newer complaint evidence');
  const spamOnComplaints = decide({ ...open, rule: 'complaints', evidence: complaintEvidence }, tripEvent(), ctx({ actor: 'system:counter' }));
  if (!spamOnComplaints.ok) throw new Error(spamOnComplaints.detail);
  t.equal(spamOnComplaints.ticket.evidence, complaintEvidence, 'a spam trip on a complaints ticket leaves its complaint evidence');
  t.match(spamOnComplaints.events, [{ type: 'spam.tripped', data: { evidence: { rule: 'spam' } } }]);
  // It trips again with every report while over the line: recorded again only CROSS_TRIP_RECORD_SECONDS later.
  const soon = decide(open, { ...tripEvent({ rule: 'complaints' }), evidence: complaintEvidence, crossTripRecordedAt: new Date(NOW.getTime() - (CROSS_TRIP_RECORD_SECONDS - 1) * 1000) }, ctx({ actor: 'system:intake' }));
  if (!soon.ok) throw new Error(soon.detail);
  t.same(soon.events, [], 'a repeat within the interval is not recorded again');
  t.equal(soon.ticket.tripCount, open.tripCount + 1, 'but counted as a trip');
  const later = decide(open, { ...tripEvent({ rule: 'complaints' }), evidence: complaintEvidence, crossTripRecordedAt: new Date(NOW.getTime() - CROSS_TRIP_RECORD_SECONDS * 1000) }, ctx({ actor: 'system:intake' }));
  if (!later.ok) throw new Error(later.detail);
  t.match(later.events, [{ type: 'complaints.tripped' }], 'after the interval it is recorded with its newer figures');
  const virus = decide({ ...open, rule: 'complaints', evidence: complaintEvidence }, tripEvent({ rule: 'virus', severity: 'critical' }), ctx({ actor: 'system:counter' }));
  if (!virus.ok) throw new Error(virus.detail);
  t.match(virus.ticket, { rule: 'virus', severity: 'critical' }, 'a virus outbreak still escalates it, with its own evidence');
});
