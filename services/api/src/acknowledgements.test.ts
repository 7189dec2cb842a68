// Acknowledge by link (issue 16): opening the link changes nothing; only the page's button (a form POST)
// acknowledges, as pressing 1 does; a TAM's acknowledgement is recorded only; a closed ticket's link and
// an unknown link are refused with a page that says so.
import { issueAckToken } from '@abuse-desk/db';
import type { ContactSnapshot } from '@abuse-desk/db';
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import { contactList } from '@abuse-desk/testkit';
import t from 'tap';
import { redactUrl } from './log-redaction.js';
import { eventCount, openTestApi, openTicket } from './test-app.js';
import type { TestApi } from './test-app.js';

async function linkFor(api: TestApi, ticketId: string, name: string) {
  const [row] = await storedRows(api.db, 'tickets', { id: ticketId });
  const contact = (row!.contacts as ContactSnapshot[]).find((c) => c.name === name)!;
  return `/ack/${await issueAckToken(api.db, ticketId, contact.id, api.clock.now())}`;
}

const form = { as: null, body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } };

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);

    t.test('opening the link shows the ticket and a button and changes nothing; the button acknowledges like pressing 1', async (t) => {
      const ticket = await openTicket(api, 'ack-co');
      const link = await linkFor(api, ticket.id, 'Bob Backup');
      const before = await eventCount(api, ticket.id);
      for (let i = 0; i < 3; i++) {
        const page = await api.request('GET', link, { as: null });
        t.equal(page.status, 200);
        t.match(page.contentType, /^text\/html/);
        t.match(page.text, ticket.number);
        t.match(page.text, '<form method="post"><button type="submit">Acknowledge');
        t.equal(page.headers['referrer-policy'], 'no-referrer');
      }
      t.equal(await eventCount(api, ticket.id), before, 'a scanner fetching the link three times acknowledged nothing');
      t.equal((await api.request('GET', `/v1/tickets/${ticket.number}`, { as: 'agent' })).body.state, 'notifying');

      const done = await api.request('POST', link, form);
      t.equal(done.status, 200);
      t.match(done.text, /you acknowledged/);
      t.match(done.text, /fix is due by/);
      const after = (await api.request('GET', `/v1/tickets/${ticket.number}`, { as: 'agent' })).body;
      t.equal(after.state, 'engaged', 'engaged, as after a key press');
      t.ok(after.deadlineAt, 'the deadline runs');
      const reached = after.events.find((e: any) => e.type === 'contact_reached');
      t.match(reached, { actor: 'contact:Bob Backup', reason: 'Bob Backup acknowledged by the email link', data: { channel: 'link' } });
      const confirmations = after.attempts.filter((a: any) => a.kind === 'confirmation');
      t.ok(confirmations.length >= 2, 'every contact is told who acknowledged');
      t.ok(after.attempts.filter((a: any) => a.kind === 'call').every((a: any) => a.status !== 'pending'), 'no call waits any more');

      const again = await api.request('POST', link, form);
      t.equal(again.status, 409, 'a second press says there is nothing to acknowledge');
      t.match(again.text, /needs no acknowledgement now/);
      t.equal((await api.request('GET', link, { as: null })).status, 409);
    });

    t.test('a TAM’s acknowledgement is recorded but the walk goes on', async (t) => {
      const ticket = await openTicket(api, 'ack-tam', { contacts: contactList({ bob: { phone: undefined } }) });
      const link = await linkFor(api, ticket.id, 'Tara TAM');
      const page = await api.request('GET', link, { as: null });
      t.match(page.text, /account manager/);
      const done = await api.request('POST', link, form);
      t.equal(done.status, 200);
      const after = (await api.request('GET', `/v1/tickets/${ticket.number}`, { as: 'agent' })).body;
      t.equal(after.state, 'notifying');
      t.match(after.events.at(-1), { type: 'acknowledged', reason: 'Tara TAM acknowledged by the email link', data: { channel: 'link' } });
    });

    t.test('a closed ticket’s link has expired, an unknown link is not valid', async (t) => {
      const ticket = await openTicket(api, 'ack-closed');
      const link = await linkFor(api, ticket.id, 'Alice Admin');
      t.equal((await api.request('POST', `/v1/tickets/${ticket.id}/dismiss`, { as: 'agent', body: { reason: 'false positive' } })).status, 200);
      for (const method of ['GET', 'POST'] as const) {
        const r = await api.request(method, link, method === 'POST' ? form : { as: null });
        t.equal(r.status, 410, `${method}: gone`);
        t.match(r.text, /expired when the ticket was closed/);
      }
      const unknown = await api.request('POST', '/ack/not-a-real-token', form);
      t.equal(unknown.status, 404);
      t.match(unknown.text, /not valid/);
      t.equal((await api.request('GET', `/v1/tickets/${ticket.number}`, { as: 'agent' })).body.state, 'dismissed');
    });
  });
}

t.test('acknowledgement links are redacted in logged URLs', async (t) => {
  t.equal(redactUrl('/ack/abcDEF123_-?x=1'), '/ack/[redacted]?x=1');
  t.equal(redactUrl('/resolve/abc'), '/resolve/[redacted]');
});
