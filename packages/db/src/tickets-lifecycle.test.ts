// The ticket store (SPEC §6, §9): the deadline sweep, resolving, refused commands and the event record —
// each change with its event, contact attempts and outbox rows.
import { EnforcementEvent } from '@abuse-desk/contracts';
import { listContacts, toSnapshot } from './tenants.js';
import { openOrUpdateTicket, suspendDueTickets } from './tickets.js';
import { messageView } from './views.js';
import type { TicketCommand } from '@abuse-desk/domain';
import t from 'tap';
import { ENGINES, openTestDb } from './testing.js';
import { TIMEOUT_SECONDS, NOW, minutesAfter, TRIP, evidenceAt, openTicketFor, command, ticketRow, attemptsOf, attempt, eventsOf, outboxOf } from './tickets.fixtures.js';

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

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
        ['Tara TAM', 'email', 'pending'],
      ]);
      t.match((await eventsOf(db, due.ticket.id)).at(-1), { type: 'deadline_passed', from: 'engaged', to: 'suspended', actor: 'enforcer' });
      t.same((await messageView(db, due.ticket.id, ''))?.suspension, { automated: true, grounds: 'no fix was reported before the deadline' }, 'the notice will say why, and that no person decided it');

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
      t.match((await messageView(db, ticket.id, ''))?.suspension, { automated: true }, 'a suspension notice still going out after the resolve states why mail had been disabled');

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
        ['Alice Admin', 'Bob Backup', 'Tara TAM'],
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
