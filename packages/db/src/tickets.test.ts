// The ticket store (SPEC §6, §8): a trip opens a ticket and starts the walk, call outcomes move the walk
// on, and each change leaves its event and contact attempts.

import type { Contact } from '@abuse-desk/contracts';
import t from 'tap';
import { ENGINES, openTestDb } from './testing.js';
import { TIMEOUT_SECONDS, NOW, minutesAfter, CONTACTS, evidenceAt, openTicketFor, callEnded, ticketRow, attemptsOf, attempt, eventsOf } from './tickets.fixtures.js';

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
          { who: 'Alice Admin', kind: 'call', channel: 'voice', address: '+14155550101', step: 0, status: 'pending' },
          { who: 'Tara TAM', kind: 'tam_briefing', channel: 'email', address: 'tara@platform.example', step: 0, status: 'pending' },
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
      t.match(attempt(after, 'Alice Admin', 'followup'), { channel: 'email', address: 'alice@tenant.example', step: 0, status: 'pending', dueAt: at });
      t.match(attempt(after, 'Bob Backup', 'call'), { channel: 'voice', address: '+14155550102', step: 1, status: 'pending', dueAt: at });
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
        { who: 'Alice Admin', channel: 'email', address: 'alice@tenant.example', status: 'pending' },
        { who: 'Bob Backup', channel: 'email', address: 'bob@tenant.example', status: 'pending' },
        { who: 'Tara TAM', channel: 'email', address: 'tara@platform.example', status: 'pending' },
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
      t.match(attempt(attempts, 'Bob Backup', 'confirmation'), { channel: 'email', address: 'bob@tenant.example', status: 'pending', dueAt: pressed });
      t.match(attempt(attempts, 'Tara TAM', 'tam_briefing'), { status: 'pending' }, 'the TAM is still briefed');
      const told = attempts.filter((a) => a.kind === 'confirmation').map((a) => a.who);
      t.ok(told.includes('Tara TAM') && told.includes('Bob Backup'), 'the contact and the TAM are told who acknowledged');
      t.equal(new Set(told).size, told.length, 'one confirmation each');
      t.match((await eventsOf(db, ticket.id)).at(-1), { type: 'contact_reached', from: 'notifying', to: 'engaged', reason: 'Bob Backup pressed 1' });
    });
  });
}
