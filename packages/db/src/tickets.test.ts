// The ticket store (SPEC §6, §8, §9): a trip opens a ticket and starts the walk, call outcomes move the
// walk on, commands change the state, and each change leaves its event, contact attempts and outbox rows.
import { EnforcementEvent } from '@abuse-desk/contracts';
import type { Contact } from '@abuse-desk/contracts';
import type { CallOutcome, TicketCommand, Trip } from '@abuse-desk/domain';
import t from 'tap';
import type { Db } from './connect.js';
import type { ContactSnapshot, Evidence } from './schema.js';
import { listContacts, replaceContacts, toSnapshot, upsertTenant } from './tenants.js';
import { ENGINES, openTestDb } from './testing.js';
import { applyCommand, openOrUpdateTicket, recordCallOutcome, suspendDueTickets } from './tickets.js';
import type { CommandContext } from './tickets.js';

const TIMEOUT_SECONDS = 3600;
const NOW = new Date('2026-11-22T10:15:00.000Z');
const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000);

/** Two contacts with phone and email, and a TAM reachable by email only. */
const CONTACTS: Contact[] = [
  { name: 'Alice Admin', phone: '+14155550100', email: 'alice@acme.example', role: 'contact', timezone: 'Europe/Berlin' },
  { name: 'Bob Backup', phone: '+14155550101', email: 'bob@acme.example', role: 'contact' },
  { name: 'Tina TAM', email: 'tina@provider.example', role: 'tam' },
];

const TRIP: Trip = {
  rule: 'spam',
  severity: 'normal',
  windowSeconds: 600,
  counts: { spam: 60, phish: 0, virus: 0, clean: 40 },
  total: 100,
  ratio: 0.6,
  thresholds: { minSpam: 50, minSpamRatio: 0.05 },
  suspendAtOnce: false,
};

const evidenceAt = (now: Date): Evidence => ({
  rule: 'spam',
  windowSeconds: 600,
  windowStart: minutesAfter(now, -10).toISOString(),
  windowEnd: now.toISOString(),
  counts: TRIP.counts,
  total: TRIP.total,
  ratio: TRIP.ratio,
  thresholds: TRIP.thresholds,
  topSenders: [{ sender: 'billing@acme.example', count: 60 }],
});

/** Creates the tenant with its contacts and opens a ticket for it, as a trip of the counter would. */
async function openTicketFor(db: Db, tenantId: string, now: Date, contacts: Contact[] = CONTACTS) {
  await upsertTenant(db, tenantId, { name: `${tenantId} Mail` }, now);
  await replaceContacts(db, tenantId, contacts);
  const snapshots: ContactSnapshot[] = (await listContacts(db, tenantId)).map(toSnapshot);
  const { ticket, opened } = await db
    .transaction()
    .execute((trx) => openOrUpdateTicket(trx, { tenantId, trip: TRIP, evidence: evidenceAt(now), contacts: snapshots, now, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'counter', destinations: ['kafka', 'webhook'] }));
  const contactId = (name: string) => snapshots.find((c) => c.name === name)!.id;
  return { ticket, opened, contactId };
}

const command = (db: Db, ticketId: string, c: TicketCommand, ctx: Omit<CommandContext, 'resolutionTimeoutSeconds' | 'destinations'>) =>
  db.transaction().execute((trx) => applyCommand(trx, ticketId, c, { resolutionTimeoutSeconds: TIMEOUT_SECONDS, destinations: ['kafka', 'webhook'], ...ctx }));

const callEnded = (db: Db, attemptId: string, outcome: CallOutcome, now: Date) =>
  db.transaction().execute((trx) => recordCallOutcome(trx, attemptId, outcome, { now, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'notifier', destinations: ['kafka', 'webhook'] }));

const ticketRow = (db: Db, id: string) => db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** The attempts of a ticket as a person would list them: who, how, what, and where it stands. */
async function attemptsOf(db: Db, ticketId: string) {
  const rows = await db.selectFrom('contact_attempts').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').orderBy('kind').orderBy('contact_name').execute();
  return rows.map((a) => ({ id: a.id, who: a.contact_name, kind: a.kind, channel: a.channel, address: a.address, step: a.step, status: a.status, outcome: a.outcome, dueAt: a.due_at }));
}

const attempt = (rows: Awaited<ReturnType<typeof attemptsOf>>, who: string, kind: string) => {
  const found = rows.find((a) => a.who === who && a.kind === kind);
  if (!found) throw new Error(`no ${kind} attempt for ${who}`);
  return found;
};

async function eventsOf(db: Db, ticketId: string) {
  const rows = await db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticketId).orderBy('seq').execute();
  return rows.map((e) => ({ seq: e.seq, type: e.type, from: e.from_state, to: e.to_state, reason: e.reason, actor: e.actor }));
}

const outboxOf = (db: Db, ticketId: string) => db.selectFrom('outbox').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').execute();

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    t.test('a new ticket briefs the TAM by email and calls the first contact at once', async (t) => {
      const { ticket, opened } = await openTicketFor(db, 'briefed', NOW);
      t.ok(opened);
      t.match(ticket, { tenant_id: 'briefed', state: 'notifying', severity: 'normal', rule: 'spam', no_contacts: false, walk_position: 0, deadline_at: null, trip_count: 1 });
      t.match(ticket.number, /^ABU-\d{6}$/);
      t.same(ticket.evidence, evidenceAt(NOW));

      const attempts = await attemptsOf(db, ticket.id);
      t.same(
        attempts.map(({ who, kind, channel, address, step, status }) => ({ who, kind, channel, address, step, status })),
        [
          { who: 'Alice Admin', kind: 'call', channel: 'voice', address: '+14155550100', step: 0, status: 'pending' },
          { who: 'Tina TAM', kind: 'tam_briefing', channel: 'email', address: 'tina@provider.example', step: 0, status: 'pending' },
        ],
      );
      t.ok(attempts.every((a) => a.dueAt.getTime() === NOW.getTime()), 'both are due now');
      t.same(await eventsOf(db, ticket.id), [{ seq: 1, type: 'opened', from: null, to: 'notifying', reason: 'spam rule tripped', actor: 'counter' }]);
    });

    t.test('a TAM who prefers the phone is called as well, and their acknowledgement does not stop the walk', async (t) => {
      const contacts: Contact[] = [CONTACTS[0]!, CONTACTS[1]!, { name: 'Tom TAM', phone: '+14155550199', email: 'tom@provider.example', role: 'tam', preferredChannel: 'phone' }];
      const { ticket } = await openTicketFor(db, 'tam-phone', NOW, contacts);
      const before = await attemptsOf(db, ticket.id);
      t.same(before.map((a) => `${a.who}: ${a.kind}`).sort(), ['Alice Admin: call', 'Tom TAM: tam_briefing', 'Tom TAM: tam_call']);

      t.same(await callEnded(db, attempt(before, 'Tom TAM', 'tam_call').id, 'acknowledged', minutesAfter(NOW, 1)), { applied: true });
      t.match(await ticketRow(db, ticket.id), { state: 'notifying', deadline_at: null });
      t.match(attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call'), { status: 'pending' }, 'the first contact is still called');
    });

    t.test('a call nobody answers sends that contact the follow-up and calls the next one, once', async (t) => {
      const { ticket } = await openTicketFor(db, 'no-answer', NOW);
      const firstCall = attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call');
      const at = minutesAfter(NOW, 2);

      t.same(await callEnded(db, firstCall.id, 'no-answer', at), { applied: true });
      const after = await attemptsOf(db, ticket.id);
      t.match(attempt(after, 'Alice Admin', 'call'), { status: 'done', outcome: 'no-answer' });
      t.match(attempt(after, 'Alice Admin', 'followup'), { channel: 'email', address: 'alice@acme.example', step: 0, status: 'pending', dueAt: at });
      t.match(attempt(after, 'Bob Backup', 'call'), { channel: 'voice', address: '+14155550101', step: 1, status: 'pending', dueAt: at });
      t.equal(after.length, 4, 'TAM briefing, first call, follow-up, second call');
      t.match(await ticketRow(db, ticket.id), { state: 'notifying', walk_position: 1 });

      t.same(await callEnded(db, firstCall.id, 'no-answer', minutesAfter(at, 1)), { applied: false }, 'the repeated callback is ignored');
      t.same(await callEnded(db, firstCall.id, 'busy', minutesAfter(at, 1)), { applied: false }, 'a late, different status is ignored too');
      t.same(await attemptsOf(db, ticket.id), after, 'no attempt was added or changed');
      t.same((await eventsOf(db, ticket.id)).map((e) => e.type), ['opened', 'call.ended']);
      t.match(attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call'), { outcome: 'no-answer' });
    });

    t.test('after the last contact the ticket awaits a response, with a deadline and a final email to everyone with an email', async (t) => {
      const { ticket } = await openTicketFor(db, 'exhausted', NOW);
      await callEnded(db, attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call').id, 'no-answer', minutesAfter(NOW, 2));
      const last = minutesAfter(NOW, 4);
      await callEnded(db, attempt(await attemptsOf(db, ticket.id), 'Bob Backup', 'call').id, 'voicemail', last);

      t.match(await ticketRow(db, ticket.id), { state: 'awaiting_response', deadline_at: new Date(last.getTime() + TIMEOUT_SECONDS * 1000), walk_position: 2 });
      const attempts = await attemptsOf(db, ticket.id);
      t.match(attempt(attempts, 'Bob Backup', 'followup'), { status: 'pending', step: 1 });
      const finals = attempts.filter((a) => a.kind === 'final');
      t.same(finals.map((a) => ({ who: a.who, channel: a.channel, address: a.address, status: a.status })), [
        { who: 'Alice Admin', channel: 'email', address: 'alice@acme.example', status: 'pending' },
        { who: 'Bob Backup', channel: 'email', address: 'bob@acme.example', status: 'pending' },
        { who: 'Tina TAM', channel: 'email', address: 'tina@provider.example', status: 'pending' },
      ]);
      t.same(
        (await eventsOf(db, ticket.id)).map((e) => [e.type, e.from, e.to, e.reason]),
        [
          ['opened', null, 'notifying', 'spam rule tripped'],
          ['call.ended', null, null, 'no-answer'],
          ['call.ended', null, null, 'voicemail'],
          ['walk_exhausted', 'notifying', 'awaiting_response', 'every contact was tried, nobody was reached'],
        ],
      );
    });

    t.test('a contact who presses 1 engages the ticket, stops the walk, and every contact is told who acknowledged', async (t) => {
      const { ticket } = await openTicketFor(db, 'acked', NOW);
      await callEnded(db, attempt(await attemptsOf(db, ticket.id), 'Alice Admin', 'call').id, 'no-answer', minutesAfter(NOW, 2));
      const pressed = minutesAfter(NOW, 3);
      t.same(await callEnded(db, attempt(await attemptsOf(db, ticket.id), 'Bob Backup', 'call').id, 'acknowledged', pressed), { applied: true });

      t.match(await ticketRow(db, ticket.id), { state: 'engaged', deadline_at: new Date(pressed.getTime() + TIMEOUT_SECONDS * 1000) });
      const attempts = await attemptsOf(db, ticket.id);
      t.match(attempt(attempts, 'Bob Backup', 'call'), { status: 'done', outcome: 'acknowledged' });
      t.match(attempt(attempts, 'Alice Admin', 'followup'), { status: 'canceled' }, 'the walk attempt still pending is canceled');
      t.match(attempt(attempts, 'Bob Backup', 'confirmation'), { channel: 'email', address: 'bob@acme.example', status: 'pending', dueAt: pressed });
      t.match(attempt(attempts, 'Tina TAM', 'tam_briefing'), { status: 'pending' }, 'the TAM is still briefed');
      const told = attempts.filter((a) => a.kind === 'confirmation').map((a) => a.who);
      t.ok(told.includes('Tina TAM') && told.includes('Bob Backup'), 'the contact and the TAM are told who acknowledged');
      t.equal(new Set(told).size, told.length, 'one confirmation each');
      t.match((await eventsOf(db, ticket.id)).at(-1), { type: 'contact_reached', from: 'notifying', to: 'engaged', reason: 'Bob Backup pressed 1' });
    });

    t.test('the deadline sweep suspends only the tickets whose deadline passed', async (t) => {
      // Its own day, earlier than every other test's tickets, so the sweep sees only the tickets made here.
      const day = new Date('2026-11-20T08:00:00.000Z');
      const due = await openTicketFor(db, 'sweep-due', day);
      await command(db, due.ticket.id, { type: 'contact_reached', contactId: null }, { now: day, actor: 'agent:dana', reason: 'phoned the admin' });
      const later = await openTicketFor(db, 'sweep-later', minutesAfter(day, 30));
      await command(db, later.ticket.id, { type: 'contact_reached', contactId: null }, { now: minutesAfter(day, 30), actor: 'agent:dana', reason: 'phoned the admin' });

      const sweepAt = minutesAfter(day, 60);
      const swept = await suspendDueTickets(db, { now: sweepAt, resolutionTimeoutSeconds: TIMEOUT_SECONDS, limit: 10, actor: 'enforcer', destinations: ['kafka', 'webhook'] });
      t.same(swept.map((s) => [s.ticket.id, s.deadlineAt]), [[due.ticket.id, sweepAt]], 'the ticket whose deadline is now, and only it');

      t.match(await ticketRow(db, due.ticket.id), { state: 'suspended', outbound_disabled: true, deadline_at: null, closed_at: null });
      t.match(await ticketRow(db, later.ticket.id), { state: 'engaged', outbound_disabled: false, deadline_at: minutesAfter(day, 90) });

      const tenant = await db.selectFrom('tenants').selectAll().where('id', '=', 'sweep-due').executeTakeFirstOrThrow();
      t.match(tenant, { outbound_enabled: false, outbound_ticket_id: due.ticket.id, outbound_changed_at: sweepAt });
      t.match(await db.selectFrom('tenants').selectAll().where('id', '=', 'sweep-later').executeTakeFirstOrThrow(), { outbound_enabled: true, outbound_ticket_id: null });

      const outbox = await outboxOf(db, due.ticket.id);
      t.equal(outbox.length, 1);
      const row = outbox[0]!;
      t.match(row, { type: 'outbound.suspended', tenant_id: 'sweep-due', delivered_at: null, created_at: sweepAt });
      t.ok(EnforcementEvent.safeParse(row.payload).success, 'the payload is a valid enforcement event');
      t.match(row.payload, {
        eventId: row.id,
        type: 'outbound.suspended',
        tenantId: 'sweep-due',
        ticketNumber: due.ticket.number,
        at: sweepAt.toISOString(),
        reason: `no resolution within ${TIMEOUT_SECONDS} s`,
      });
      t.same(await outboxOf(db, later.ticket.id), []);

      const notices = (await attemptsOf(db, due.ticket.id)).filter((a) => a.kind === 'suspension_notice');
      t.same(notices.map((a) => [a.who, a.channel, a.status]), [
        ['Alice Admin', 'email', 'pending'],
        ['Bob Backup', 'email', 'pending'],
        ['Tina TAM', 'email', 'pending'],
      ]);
      t.match((await eventsOf(db, due.ticket.id)).at(-1), { type: 'deadline_passed', from: 'engaged', to: 'suspended', actor: 'enforcer' });

      t.same(await suspendDueTickets(db, { now: minutesAfter(sweepAt, 1), resolutionTimeoutSeconds: TIMEOUT_SECONDS, limit: 10, actor: 'enforcer', destinations: ['kafka', 'webhook'] }), [], 'a second sweep finds nothing to do');
      t.equal((await outboxOf(db, due.ticket.id)).length, 1, 'and writes no second enforcement event');
    });

    t.test('resolving a suspended ticket re-enables outbound and announces the reinstatement', async (t) => {
      const { ticket } = await openTicketFor(db, 'reinstated', NOW);
      await command(db, ticket.id, { type: 'contact_reached', contactId: null }, { now: NOW, actor: 'agent:dana' });
      const deadline = minutesAfter(NOW, 60);
      t.match(await command(db, ticket.id, { type: 'deadline_passed' }, { now: deadline, actor: 'enforcer' }), { ok: true, ticket: { state: 'suspended' } });

      const resolvedAt = minutesAfter(NOW, 90);
      const r = await command(db, ticket.id, { type: 'resolve' }, { now: resolvedAt, actor: 'agent:dana', reason: 'compromised account locked' });
      t.match(r, { ok: true, ticket: { state: 'resolved', outbound_disabled: false, deadline_at: null, closed_at: resolvedAt } });

      t.match(await db.selectFrom('tenants').selectAll().where('id', '=', 'reinstated').executeTakeFirstOrThrow(), { outbound_enabled: true, outbound_ticket_id: null, outbound_changed_at: resolvedAt });
      const outbox = await outboxOf(db, ticket.id);
      t.same(outbox.map((o) => o.type), ['outbound.suspended', 'outbound.reinstated']);
      const reinstated = outbox[1]!;
      t.match(reinstated.payload, {
        eventId: reinstated.id,
        type: 'outbound.reinstated',
        tenantId: 'reinstated',
        ticketNumber: ticket.number,
        at: resolvedAt.toISOString(),
        reason: 'resolved by agent:dana: compromised account locked',
      });
      t.ok(EnforcementEvent.safeParse(reinstated.payload).success, 'the payload is a valid enforcement event');
      t.same(
        (await attemptsOf(db, ticket.id)).filter((a) => a.kind === 'reinstatement_notice').map((a) => a.who),
        ['Alice Admin', 'Bob Backup', 'Tina TAM'],
      );

      const next = await db
        .transaction()
        .execute(async (trx) =>
          openOrUpdateTicket(trx, { tenantId: 'reinstated', trip: TRIP, evidence: evidenceAt(resolvedAt), contacts: (await listContacts(trx, 'reinstated')).map(toSnapshot), now: minutesAfter(resolvedAt, 5), resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'counter', destinations: ['kafka', 'webhook'] }),
        );
      t.ok(next.opened, 'a trip after the resolution opens a new ticket');
      t.not(next.ticket.number, ticket.number);
    });

    t.test('a refused command returns invalid_transition and changes nothing', async (t) => {
      const { ticket } = await openTicketFor(db, 'refused', NOW);
      const rowBefore = await ticketRow(db, ticket.id);
      const attemptsBefore = await attemptsOf(db, ticket.id);
      const eventsBefore = await eventsOf(db, ticket.id);
      const later = minutesAfter(NOW, 5);

      for (const c of [{ type: 'reject_resolution' }, { type: 'extend', minutes: 30 }, { type: 'deadline_passed' }] as const) {
        const r = await command(db, ticket.id, c, { now: later, actor: 'agent:dana', reason: 'trying' });
        t.match(r, { ok: false, reason: 'invalid_transition', detail: /not allowed while the ticket is notifying/ }, `${c.type} is refused while notifying`);
      }
      t.same(await ticketRow(db, ticket.id), rowBefore, 'the ticket is as it was');
      t.same(await eventsOf(db, ticket.id), eventsBefore, 'no event was written');
      t.same(await attemptsOf(db, ticket.id), attemptsBefore, 'no attempt was added or changed');
      t.same(await outboxOf(db, ticket.id), []);

      t.match(await command(db, ticket.id, { type: 'dismiss' }, { now: later, actor: 'agent:dana', reason: 'false positive' }), { ok: true, ticket: { state: 'dismissed' } });
      const closed = await ticketRow(db, ticket.id);
      t.match(await command(db, ticket.id, { type: 'resolve' }, { now: minutesAfter(later, 1), actor: 'agent:dana' }), { ok: false, reason: 'invalid_transition' }, 'a closed ticket cannot be resolved');
      t.same(await ticketRow(db, ticket.id), closed);

      t.same(await command(db, '00000000-0000-4000-8000-000000000000', { type: 'resolve' }, { now: later, actor: 'agent:dana' }), { ok: false, reason: 'not_found' });
    });

    t.test('every transition writes a ticket event, numbered in order', async (t) => {
      const { ticket, contactId } = await openTicketFor(db, 'history', NOW);
      const steps: [TicketCommand, number, string | null][] = [
        [{ type: 'contact_reached', contactId: contactId('Alice Admin') }, 1, 'spoke with Alice'],
        [{ type: 'note' }, 2, 'she is looking into it'],
        [{ type: 'resolution_submitted', actionsTaken: 'we locked the account', contactName: null }, 10, null],
        [{ type: 'reject_resolution' }, 20, 'the spam continues'],
        [{ type: 'extend', minutes: 30 }, 25, 'waiting for their vendor'],
        [{ type: 'suspend' }, 30, 'still sending'],
        [{ type: 'resolve' }, 60, 'fixed'],
      ];
      for (const [c, minutes, reason] of steps) {
        t.match(await command(db, ticket.id, c, { now: minutesAfter(NOW, minutes), actor: 'agent:dana', reason }), { ok: true }, c.type);
      }
      const events = await eventsOf(db, ticket.id);
      t.same(
        events.map((e) => [e.seq, e.type, e.from, e.to]),
        [
          [1, 'opened', null, 'notifying'],
          [2, 'contact_reached', 'notifying', 'engaged'],
          [3, 'note', 'engaged', 'engaged'],
          [4, 'resolution_submitted', 'engaged', 'resolution_submitted'],
          [5, 'reject_resolution', 'resolution_submitted', 'engaged'],
          [6, 'extend', 'engaged', 'engaged'],
          [7, 'suspend', 'engaged', 'suspended'],
          [8, 'resolve', 'suspended', 'resolved'],
        ],
      );
      t.same(events.slice(1).map((e) => e.reason), steps.map(([, , reason]) => reason));
      t.equal((await ticketRow(db, ticket.id)).event_seq, 8, 'the ticket knows its last event number');
      const extend = await db.selectFrom('ticket_events').select('data').where('ticket_id', '=', ticket.id).where('type', '=', 'extend').executeTakeFirstOrThrow();
      t.match(extend.data, { minutes: 30, deadlineAt: minutesAfter(NOW, 20 + 60 + 30).toISOString() }, 'the extension records its minutes and the new deadline');
    });
  });
}
