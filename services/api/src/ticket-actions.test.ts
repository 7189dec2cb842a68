// Agent actions on a ticket (SPEC §6, §7): each action's state and effects, and refusals (409 for the
// lifecycle, 400 for a bad body, 403 for a token without the role) that append no event.
import { issueResolutionToken } from '@abuse-desk/db';
import { ENGINES } from '@abuse-desk/db/testing';
import t from 'tap';
import { PROBLEM, RESOLUTION_TIMEOUT_SECONDS, eventCount, openTestApi, openTicket } from './test-app.js';
import type { TestApi } from './test-app.js';

const SECOND = 1000;

const action = (api: TestApi, id: string, path: string, body: unknown) => api.request('POST', `/v1/tickets/${id}/${path}`, { as: 'agent', body });
const lastEvent = (ticket: { events: { type: string }[] }) => ticket.events[ticket.events.length - 1]!;

/** Submits a resolution as the tenant would, from the emailed token. */
async function submitResolution(api: TestApi, ticket: { id: string; number: string }) {
  const token = await issueResolutionToken(api.db, ticket.id, api.clock.now());
  const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token, actionsTaken: 'Reset the compromised password and removed the forwarding rule.' } });
  if (r.status !== 202) throw new Error(`resolution: ${r.status} ${r.text}`);
}

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);

    t.test('contact-reached engages the ticket, stops the walk and starts the deadline', async (t) => {
      const ticket = await openTicket(api, 'reached');
      const alice = ticket.contacts[0];
      const now = api.clock.now();
      const r = await action(api, ticket.id, 'contact-reached', { contactId: alice.id, note: 'Spoke to Alice on the phone' });
      t.equal(r.status, 200);
      t.equal(r.body.state, 'engaged');
      t.equal(r.body.deadlineAt, new Date(now.getTime() + RESOLUTION_TIMEOUT_SECONDS * SECOND).toISOString());
      t.match(lastEvent(r.body), { type: 'contact_reached', fromState: 'notifying', toState: 'engaged', actor: 'agent:test agent', reason: 'Spoke to Alice on the phone', data: { contactId: alice.id } });
      t.match(r.body.attempts.find((a: { kind: string }) => a.kind === 'call'), { status: 'canceled' }, 'the pending call is canceled');
      t.ok(r.body.attempts.filter((a: { kind: string }) => a.kind === 'confirmation').map((a: { contactName: string }) => a.contactName).includes('Alice Admin'), 'the reached contact gets a confirmation');
    });

    t.test('contact-reached with a contact of another ticket is refused with 400', async (t) => {
      const ticket = await openTicket(api, 'stranger');
      const before = await eventCount(api, ticket.id);
      const r = await action(api, ticket.id, 'contact-reached', { contactId: '00000000-0000-4000-8000-000000000000', note: 'who?' });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { errors: [{ field: 'body.contactId' }] });
      t.equal(await eventCount(api, ticket.id), before);
      t.equal((await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' })).body.state, 'notifying');
    });

    t.test('a note is appended as an event and changes nothing else', async (t) => {
      const ticket = await openTicket(api, 'noted');
      const r = await action(api, ticket.number, 'notes', { text: 'Customer says a web form was abused' });
      t.equal(r.status, 200);
      t.equal(r.body.state, 'notifying');
      t.equal(r.body.events.length, ticket.events.length + 1);
      t.match(lastEvent(r.body), { type: 'note', reason: 'Customer says a web form was abused', actor: 'agent:test agent' });
    });

    t.test('extend moves a running deadline by the given minutes', async (t) => {
      const ticket = await openTicket(api, 'extended');
      const engaged = (await action(api, ticket.id, 'contact-reached', { note: 'called' })).body;
      const r = await action(api, ticket.id, 'extend', { minutes: 30, reason: 'they are rotating credentials' });
      t.equal(r.status, 200);
      t.equal(r.body.state, 'engaged');
      t.equal(r.body.deadlineAt, new Date(new Date(engaged.deadlineAt).getTime() + 30 * 60 * SECOND).toISOString());
      t.match(lastEvent(r.body), { type: 'extend', fromState: 'engaged', toState: 'engaged', reason: 'they are rotating credentials', data: { minutes: 30 } });
    });

    t.test('suspend disables outbound mail and queues outbound.suspended; resolve re-enables it', async (t) => {
      const ticket = await openTicket(api, 'suspended');
      const r = await action(api, ticket.id, 'suspend', { reason: 'phishing kit found' });
      t.equal(r.status, 200);
      t.match(r.body, { state: 'suspended', outboundDisabled: true, deadlineAt: null });
      t.match(r.body.enforcementEvents, [{ type: 'outbound.suspended', eventId: String, deliveredAt: null }]);
      t.match(lastEvent(r.body), { type: 'suspend', fromState: 'notifying', toState: 'suspended', reason: 'phishing kit found' });
      const outbound = await api.request('GET', '/v1/tenants/suspended/outbound', { as: 'ingest' });
      t.same({ enabled: outbound.body.enabled, ticketNumber: outbound.body.ticketNumber }, { enabled: false, ticketNumber: ticket.number });
      t.match((await api.request('GET', '/v1/tenants/suspended', { as: 'agent' })).body.outbound, { enabled: false, ticketNumber: ticket.number });

      api.clock.advance(5 * 60 * SECOND);
      const resolved = await action(api, ticket.id, 'resolve', { note: 'kit removed, passwords reset' });
      t.equal(resolved.status, 200);
      t.match(resolved.body, { state: 'resolved', open: false, outboundDisabled: false, closedAt: api.clock.now().toISOString() });
      t.same(resolved.body.enforcementEvents.map((e: { type: string }) => e.type), ['outbound.suspended', 'outbound.reinstated']);
      const after = await api.request('GET', '/v1/tenants/suspended/outbound', { as: 'ingest' });
      t.same(after.body, { tenantId: 'suspended', enabled: true, since: api.clock.now().toISOString() });
      t.equal((await api.request('GET', '/v1/tenants/suspended', { as: 'agent' })).body.openTicket, null);
    });

    t.test('an agent rejects a submitted resolution: the ticket is engaged again with a new deadline', async (t) => {
      const ticket = await openTicket(api, 'rejected');
      await action(api, ticket.id, 'contact-reached', { note: 'called' });
      await submitResolution(api, ticket);
      api.clock.advance(10 * 60 * SECOND);
      const r = await action(api, ticket.id, 'reject-resolution', { note: 'spam is still flowing' });
      t.equal(r.status, 200);
      t.equal(r.body.state, 'engaged');
      t.equal(r.body.deadlineAt, new Date(api.clock.now().getTime() + RESOLUTION_TIMEOUT_SECONDS * SECOND).toISOString());
      t.match(lastEvent(r.body), { type: 'reject_resolution', fromState: 'resolution_submitted', toState: 'engaged', reason: 'spam is still flowing' });
    });

    t.test('a rejected resolution of a suspended ticket leaves it suspended', async (t) => {
      const ticket = await openTicket(api, 'rejected-suspended');
      await action(api, ticket.id, 'suspend', { reason: 'bad' });
      await submitResolution(api, ticket);
      const r = await action(api, ticket.id, 'reject-resolution', { note: 'not enough' });
      t.equal(r.status, 200);
      t.match(r.body, { state: 'suspended', outboundDisabled: true, deadlineAt: null });
      t.equal((await api.request('GET', '/v1/tenants/rejected-suspended/outbound', { as: 'agent' })).body.enabled, false);
    });

    t.test('dismiss closes a false positive', async (t) => {
      const ticket = await openTicket(api, 'dismissed');
      const r = await action(api, ticket.id, 'dismiss', { reason: 'a legitimate newsletter misjudged by the filter' });
      t.equal(r.status, 200);
      t.match(r.body, { state: 'dismissed', open: false, outboundDisabled: false, enforcementEvents: [] });
      t.match(lastEvent(r.body), { type: 'dismiss', fromState: 'notifying', toState: 'dismissed' });
      t.match(r.body.attempts.find((a: { kind: string }) => a.kind === 'call'), { status: 'canceled' });
    });

    t.test('dismissing a suspended ticket re-enables outbound mail', async (t) => {
      const ticket = await openTicket(api, 'dismissed-suspended');
      await action(api, ticket.id, 'suspend', { reason: 'looked bad' });
      const r = await action(api, ticket.id, 'dismiss', { reason: 'it was the quarterly newsletter' });
      t.equal(r.status, 200);
      t.match(r.body, { state: 'dismissed', outboundDisabled: false });
      t.same(r.body.enforcementEvents.map((e: { type: string }) => e.type), ['outbound.suspended', 'outbound.reinstated']);
      t.equal((await api.request('GET', '/v1/tenants/dismissed-suspended/outbound', { as: 'ingest' })).body.enabled, true);
    });

    t.test('a refused transition is a 409 problem in words and appends no event', async (t) => {
      const ticket = await openTicket(api, 'refused');
      const cases: [string, unknown, RegExp][] = [
        ['extend', { minutes: 10, reason: 'more time' }, /extend is not allowed while the ticket is notifying/],
        ['reject-resolution', { note: 'no' }, /reject resolution is not allowed while the ticket is notifying/],
      ];
      for (const [path, body, detail] of cases) {
        const before = await eventCount(api, ticket.id);
        const r = await action(api, ticket.id, path, body);
        t.equal(r.status, 409, path);
        t.match(r.contentType, PROBLEM);
        t.match(r.body, { type: 'about:blank', title: 'Conflict', status: 409, detail, instance: `/v1/tickets/${ticket.id}/${path}` });
        t.equal(await eventCount(api, ticket.id), before, `${path} appended no event`);
      }

      t.equal((await action(api, ticket.id, 'resolve', { note: 'fixed' })).status, 200);
      const before = await eventCount(api, ticket.id);
      for (const [path, body] of [['resolve', { note: 'again' }], ['dismiss', { reason: 'again' }], ['suspend', { reason: 'again' }], ['contact-reached', { note: 'again' }]] as const) {
        const r = await action(api, ticket.id, path, body);
        t.equal(r.status, 409, `${path} on a resolved ticket`);
        t.match(r.contentType, PROBLEM);
        t.match(r.body.detail, /while the ticket is resolved/);
      }
      t.equal(await eventCount(api, ticket.id), before, 'no event was appended');
      const after = await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' });
      t.equal(after.body.state, 'resolved');
      t.same(after.body.enforcementEvents, []);
    });

    t.test('suspending a suspended ticket is refused and queues no second enforcement event', async (t) => {
      const ticket = await openTicket(api, 'twice-suspended');
      await action(api, ticket.id, 'suspend', { reason: 'first' });
      const r = await action(api, ticket.id, 'suspend', { reason: 'second' });
      t.equal(r.status, 409);
      t.match(r.body.detail, /suspend is not allowed while the ticket is suspended/);
      t.equal((await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' })).body.enforcementEvents.length, 1);
    });

    t.test('an action without its note or reason is refused with 400 naming the field', async (t) => {
      const ticket = await openTicket(api, 'no-reason');
      const before = await eventCount(api, ticket.id);
      const cases: [string, unknown, string][] = [
        ['contact-reached', {}, 'body.note'],
        ['notes', { text: '' }, 'body.text'],
        ['extend', { reason: 'x' }, 'body.minutes'],
        ['extend', { minutes: 0, reason: 'x' }, 'body.minutes'],
        ['extend', { minutes: 10 }, 'body.reason'],
        ['suspend', {}, 'body.reason'],
        ['reject-resolution', { reason: 'wrong field' }, 'body.note'],
        ['resolve', { note: '' }, 'body.note'],
        ['dismiss', {}, 'body.reason'],
      ];
      for (const [path, body, field] of cases) {
        const r = await action(api, ticket.id, path, body);
        t.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
        t.match(r.contentType, PROBLEM);
        t.ok(r.body.errors.some((e: { field: string }) => e.field === field), `${path} names ${field}: ${JSON.stringify(r.body.errors)}`);
      }
      t.equal(await eventCount(api, ticket.id), before, 'no event was appended');
      t.equal((await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' })).body.state, 'notifying');
    });

    t.test('an ingest token cannot act on a ticket', async (t) => {
      const ticket = await openTicket(api, 'ingest-acts');
      const r = await api.request('POST', `/v1/tickets/${ticket.id}/resolve`, { as: 'ingest', body: { note: 'x' } });
      t.equal(r.status, 403);
      t.equal((await api.request('GET', `/v1/tickets/${ticket.id}`, { as: 'agent' })).body.state, 'notifying');
    });
  });
}
