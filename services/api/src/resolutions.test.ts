// The tenant's side (SPEC §7): POST /v1/resolutions and the resolution page behind the emailed link. A token
// grants its own ticket and nothing else; a wrong token and a wrong ticket look the same from outside.
import { issueResolutionToken } from '@abuse-desk/db';
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import t from 'tap';
import { PROBLEM, eventCount, openTestApi, openTicket } from './test-app.js';

const ACTIONS = 'We found a compromised mailbox password, reset it and enabled two-factor authentication.';

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    const ticket = await openTicket(api, 'acme', { sender: 'billing@acme.example' });
    const other = await openTicket(api, 'globex');
    const token = await issueResolutionToken(api.db, ticket.id, api.clock.now());
    const otherToken = await issueResolutionToken(api.db, other.id, api.clock.now());
    const stored = async (id: string) => (await storedRows(api.db, 'tickets', { id }))[0]!;

    t.test('the resolution page shows the ticket, its top sender and the form', async (t) => {
      const r = await api.request('GET', `/resolve/${token}`, { as: null });
      t.equal(r.status, 200);
      t.match(r.contentType, /^text\/html/);
      t.match(r.text, ticket.number);
      t.match(r.text, 'billing@acme.example');
      t.match(r.text, /<form method="post">/);
      t.match(r.text, /name="actionsTaken"/);
      t.equal(r.headers['cache-control'], 'no-store', 'the page behind a secret link is not cached');
      t.equal(r.headers['referrer-policy'], 'no-referrer', 'and the link does not leak through the Referer header');
      t.notMatch(r.text, other.number, 'nothing of another ticket');
    });

    t.test('what spammers control (the sender address) is escaped on the page', async (t) => {
      const evil = await openTicket(api, 'evil', { sender: '<script>alert(1)</script>@evil.example' });
      const evilToken = await issueResolutionToken(api.db, evil.id, api.clock.now());
      const r = await api.request('GET', `/resolve/${evilToken}`, { as: null });
      t.equal(r.status, 200);
      t.notMatch(r.text, '<script>alert(1)', 'the sender address is not markup');
      t.match(r.text, '&lt;script&gt;alert(1)&lt;/script&gt;@evil.example');
    });

    t.test('the page of an engaged ticket shows the deadline', async (t) => {
      const engaged = await openTicket(api, 'deadline');
      const r = await api.request('POST', `/v1/tickets/${engaged.id}/contact-reached`, { as: 'agent', body: { note: 'called Alice' } });
      const deadline = new Date(r.body.deadlineAt);
      const page = await api.request('GET', `/resolve/${await issueResolutionToken(api.db, engaged.id, api.clock.now())}`, { as: null });
      t.equal(page.status, 200);
      t.match(page.text, `${deadline.toISOString().replace('T', ' ').slice(0, 16)} UTC`);
      t.match(page.text, /60 minutes left/);
      t.match(page.text, /<form/);
    });

    t.test('an unknown token gets a 404 HTML page', async (t) => {
      const r = await api.request('GET', `/resolve/${'x'.repeat(43)}`, { as: null });
      t.equal(r.status, 404);
      t.match(r.contentType, /^text\/html/);
      t.match(r.text, /not valid/);
      t.notMatch(r.text, ticket.number);
    });

    t.test('a wrong token and a right token with another ticket number get the same 404', async (t) => {
      const wrongToken = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token: 'y'.repeat(43), actionsTaken: ACTIONS } });
      const wrongTicket = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: other.number, token, actionsTaken: ACTIONS } });
      const noTicket = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: 'ABU-999999', token, actionsTaken: ACTIONS } });
      for (const r of [wrongToken, wrongTicket, noTicket]) {
        t.equal(r.status, 404);
        t.match(r.contentType, PROBLEM);
      }
      t.same(wrongTicket.body, wrongToken.body, 'the answers cannot be told apart');
      t.same(noTicket.body, wrongToken.body);
      t.match(wrongToken.body, { title: 'Not Found', status: 404, instance: '/v1/resolutions' });
      t.match(await stored(ticket.id), { state: 'notifying', resolution_text: null });
      t.match(await stored(other.id), { state: 'notifying', resolution_text: null });
    });

    t.test('actions taken shorter than 10 characters are refused with 400 and nothing is stored', async (t) => {
      const before = await stored(ticket.id);
      const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token, actionsTaken: 'fixed it' } });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { status: 400, errors: [{ field: 'body.actionsTaken', message: /at least 10/ }] });
      t.same(await stored(ticket.id), before);
    });

    t.test('a resolution needs a well-formed ticket number', async (t) => {
      const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: '42', token, actionsTaken: ACTIONS } });
      t.equal(r.status, 400);
      t.match(r.body, { errors: [{ field: 'body.ticketNumber' }] });
    });

    t.test('the tenant submits a resolution with the ticket number and token: 202, state and text stored', async (t) => {
      const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token, actionsTaken: ACTIONS, contactName: 'Alice' } });
      t.equal(r.status, 202);
      t.same(r.body, { ticketNumber: ticket.number, state: 'resolution_submitted', submittedAt: api.clock.now().toISOString() });
      t.match(await stored(ticket.id), { state: 'resolution_submitted', resolution_text: ACTIONS, resolution_contact_name: 'Alice' });

      const seen = await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' });
      t.match(seen.body, { state: 'resolution_submitted', deadlineAt: null, resolution: { actionsTaken: ACTIONS, contactName: 'Alice', submittedAt: api.clock.now().toISOString() } });
      t.match(seen.body.events[seen.body.events.length - 1], { type: 'resolution_submitted', fromState: 'notifying', toState: 'resolution_submitted', actor: 'tenant:Alice', reason: ACTIONS });
      t.equal(seen.body.attempts.find((a: { kind: string }) => a.kind === 'call').status, 'canceled', 'the walk stops');
    });

    t.test('the page of a submitted ticket thanks the tenant and shows what was reported', async (t) => {
      const r = await api.request('GET', `/resolve/${token}`, { as: null });
      t.equal(r.status, 200);
      t.match(r.text, /your fix was received/);
      t.match(r.text, 'two-factor authentication');
      t.notMatch(r.text, /<form/);
    });

    t.test('the form on the page posts form-encoded and answers with an HTML confirmation', async (t) => {
      const r = await api.request('POST', `/resolve/${otherToken}`, {
        as: null,
        body: new URLSearchParams({ actionsTaken: 'Removed the open relay from our web form.', contactName: 'Gina' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      t.equal(r.status, 200);
      t.match(r.contentType, /^text\/html/);
      t.match(r.text, other.number);
      t.match(r.text, /your fix was received/);
      t.match(await stored(other.id), { state: 'resolution_submitted', resolution_text: 'Removed the open relay from our web form.', resolution_contact_name: 'Gina' });
    });

    t.test('the 202 reports the submission time that was stored, not the time of the reply', async (t) => {
      const later = await openTicket(api, 'umbrella');
      const laterToken = await issueResolutionToken(api.db, later.id, api.clock.now());
      // A clock that moves a second each time it is read: the reply comes later than the submission.
      const still = api.clock.now;
      t.teardown(() => void (api.clock.now = still));
      api.clock.now = () => {
        api.clock.advance(1000);
        return still();
      };
      const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: later.number, token: laterToken, actionsTaken: ACTIONS } });
      t.equal(r.status, 202);
      const row = await stored(later.id);
      t.equal(r.body.submittedAt, row.resolution_submitted_at!.toISOString());
      const seen = await api.request('GET', `/v1/tickets/${later.id}`, { as: 'agent' });
      t.equal(seen.body.resolution.submittedAt, r.body.submittedAt, 'the ticket shows the same time');
    });

    t.test('the form refuses too short an answer with the page and its error, storing nothing', async (t) => {
      const fresh = await openTicket(api, 'initech');
      const freshToken = await issueResolutionToken(api.db, fresh.id, api.clock.now());
      const r = await api.request('POST', `/resolve/${freshToken}`, { as: null, body: 'actionsTaken=done', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.equal(r.status, 400);
      t.match(r.contentType, /^text\/html/);
      t.match(r.text, /role="alert"/);
      t.match(r.text, /<textarea[^>]*>done<\/textarea>/, 'what was typed is kept');
      t.match(await stored(fresh.id), { state: 'notifying', resolution_text: null });
    });

    t.test('the form with an unknown token gets the 404 page', async (t) => {
      const r = await api.request('POST', `/resolve/${'z'.repeat(43)}`, { as: null, body: `actionsTaken=${encodeURIComponent(ACTIONS)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.equal(r.status, 404);
      t.match(r.contentType, /^text\/html/);
    });

    t.test('a resolved ticket takes no further resolution: 409 on the form and on the endpoint', async (t) => {
      t.equal((await api.request('POST', `/v1/tickets/${ticket.id}/resolve`, { as: 'agent', body: { note: 'verified' } })).status, 200);
      const before = await eventCount(api, ticket.id);

      const form = await api.request('POST', `/resolve/${token}`, { as: null, body: `actionsTaken=${encodeURIComponent('Another long enough answer.')}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.equal(form.status, 409);
      t.match(form.contentType, /^text\/html/);
      t.match(form.text, /This ticket is resolved/);
      t.notMatch(form.text, /<form/);

      const api409 = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token, actionsTaken: 'Another long enough answer.' } });
      t.equal(api409.status, 409);
      t.match(api409.contentType, PROBLEM);
      t.match(api409.body, { title: 'Conflict', status: 409, detail: /resolved/ });

      t.equal(await eventCount(api, ticket.id), before, 'no event was appended');
      t.match(await stored(ticket.id), { state: 'resolved', resolution_text: ACTIONS });

      const page = await api.request('GET', `/resolve/${token}`, { as: null });
      t.equal(page.status, 200);
      t.match(page.text, /This ticket is resolved/);
      t.notMatch(page.text, /<form/);
    });
  });
}
