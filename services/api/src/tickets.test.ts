// Finding tickets (SPEC §6, §7): listing newest first with cursor paging and filters, lookup by id and by
// number with everything an agent sees, and 404 for a ticket that does not exist.
import { ENGINES } from '@abuse-desk/db/testing';
import { spamBurst } from '@abuse-desk/testkit';
import t from 'tap';
import { PROBLEM, openTestApi, openTicket } from './test-app.js';

const SECOND = 1000;

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);

    t.test('tickets are listed newest first with cursor paging', async (t) => {
      const opened: string[] = [];
      for (const tenant of ['page-a', 'page-b', 'page-c']) {
        opened.push((await openTicket(api, tenant)).number);
        api.clock.advance(SECOND);
      }
      const first = await api.request('GET', '/v1/tickets?limit=2', { as: 'agent' });
      t.equal(first.status, 200);
      t.same(first.body.items.map((i: { number: string }) => i.number), [opened[2], opened[1]]);
      t.type(first.body.nextCursor, 'string');
      t.match(first.body.items[0], { tenantId: 'page-c', state: 'notifying', severity: 'normal', rule: 'spam', open: true, noContacts: false, deadlineAt: null, outboundDisabled: false, closedAt: null });

      const rest = await api.request('GET', `/v1/tickets?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, { as: 'agent' });
      t.equal(rest.status, 200);
      t.same(rest.body.items.map((i: { number: string }) => i.number), [opened[0]]);
      t.equal(rest.body.nextCursor, null, 'the last page has no cursor');
    });

    t.test('a cursor this api did not give out is refused with 400', async (t) => {
      for (const cursor of ['garbage', Buffer.from('["not a date","x"]').toString('base64url')]) {
        const r = await api.request('GET', `/v1/tickets?cursor=${cursor}`, { as: 'agent' });
        t.equal(r.status, 400, cursor);
        t.match(r.contentType, PROBLEM);
        t.match(r.body, { status: 400, errors: [{ field: 'querystring.cursor' }] });
      }
    });

    t.test('tickets filter by state and tenant, and an unknown state is refused', async (t) => {
      t.same((await api.request('GET', '/v1/tickets?tenantId=page-b', { as: 'agent' })).body.items.map((i: { tenantId: string }) => i.tenantId), ['page-b']);
      t.equal((await api.request('GET', '/v1/tickets?state=notifying', { as: 'agent' })).body.items.length, 3);
      t.equal((await api.request('GET', '/v1/tickets?state=open', { as: 'agent' })).body.items.length, 3);
      t.equal((await api.request('GET', '/v1/tickets?state=resolved', { as: 'agent' })).body.items.length, 0);
      const bad = await api.request('GET', '/v1/tickets?state=closed', { as: 'agent' });
      t.equal(bad.status, 400);
      t.match(bad.body, { errors: [{ field: 'querystring.state' }] });
      const limit = await api.request('GET', '/v1/tickets?limit=0', { as: 'agent' });
      t.equal(limit.status, 400);
      t.match(limit.body, { errors: [{ field: 'querystring.limit' }] });
    });

    t.test('tickets opened in the same instant page without loss or repeat', async (t) => {
      const at = api.clock.now();
      const batch = ['tie-a', 'tie-b', 'tie-c'].flatMap((tenant) => spamBurst(tenant, 60, { at }));
      const opened = (await api.request('POST', '/v1/verdicts', { as: 'ingest', body: batch })).body.ticketsOpened as string[];
      t.equal(opened.length, 3);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { number: string; openedAt: string }[]; nextCursor: string | null } } = await api.request('GET', `/v1/tickets?state=open&limit=1${cursor ? `&cursor=${cursor}` : ''}`, { as: 'agent' });
        seen.push(...page.body.items.filter((i) => i.openedAt === at.toISOString()).map((i) => i.number));
        cursor = page.body.nextCursor;
      } while (cursor);
      t.same([...seen].sort(), [...opened].sort(), 'each of them once');
      api.clock.advance(SECOND);
    });

    t.test('a ticket is found by id and by number, with evidence, contacts, attempts and events', async (t) => {
      const ticket = await openTicket(api, 'lookup', { sender: 'spammer@lookup.example' });
      const byId = await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' });
      t.equal(byId.status, 200);
      const byNumber = await api.request('GET', `/v1/tickets/${ticket.number}`, { as: 'agent' });
      t.same(byNumber.body, byId.body);
      t.same((await api.request('GET', `/v1/tickets/${ticket.number.toLowerCase()}`, { as: 'agent' })).body, byId.body, 'the number is case-insensitive');
      t.match(byId.body, {
        id: ticket.id,
        number: ticket.number,
        tenantId: 'lookup',
        state: 'notifying',
        evidence: { rule: 'spam', counts: { spam: 60 }, topSenders: [{ sender: 'spammer@lookup.example', count: 60 }] },
        contacts: [{ name: 'Alice Admin' }, { name: 'Bob Backup' }],
        resolution: null,
        enforcementEvents: [],
      });
      t.same(byId.body.attempts.map((a: { kind: string; contactName: string; status: string }) => [a.kind, a.contactName, a.status]), [['call', 'Alice Admin', 'pending']], 'the walk starts with a call to the first contact');
      t.match(byId.body.events, [{ seq: 1, type: 'opened', toState: 'notifying', actor: String }]);
    });

    t.test('an unknown ticket is 404, by id and by number', async (t) => {
      for (const id of ['ABU-999999', '00000000-0000-4000-8000-000000000000']) {
        const r = await api.request('GET', `/v1/tickets/${id}`, { as: 'agent' });
        t.equal(r.status, 404, id);
        t.match(r.contentType, PROBLEM);
        t.match(r.body, { title: 'Not Found', status: 404, detail: `ticket ${id} was not found` });
        const acted = await api.request('POST', `/v1/tickets/${id}/notes`, { as: 'agent', body: { text: 'hello' } });
        t.equal(acted.status, 404, `an action on ${id}`);
        t.match(acted.contentType, PROBLEM);
      }
    });

    t.test('dead letters are listed for agents', async (t) => {
      const r = await api.request('GET', '/v1/dead-letters', { as: 'agent' });
      t.equal(r.status, 200);
      t.same(r.body, { items: [] });
    });
  });
}
