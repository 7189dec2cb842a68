// README promises seen from the API: a shadow ticket superseded by a real one, no probation after a
// dismissal, the walk on the contact list of the ticket's opening, 60 resolution requests a minute per
// client address, and repeated trips that burn no ticket number.
import { issueResolutionToken, recordCallOutcome } from '@abuse-desk/db';
import { ENGINES } from '@abuse-desk/db/testing';
import { ALICE, BOB, contactList, spamBurst } from '@abuse-desk/testkit';
import t from 'tap';
import { RESOLUTION_TIMEOUT_SECONDS, openTestApi, openTicket } from './test-app.js';
import type { TestApi } from './test-app.js';

/** Posts a spam burst for a tenant at the api clock's now; returns the numbers of the tickets it opened. */
async function trip(api: TestApi, tenantId: string, count = 60): Promise<string[]> {
  const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst(tenantId, count, { at: api.clock.now() }) });
  if (r.status !== 200) throw new Error(`POST verdicts: ${r.status} ${r.text}`);
  return r.body.ticketsOpened;
}

const ticketOf = async (api: TestApi, idOrNumber: string) => (await api.request('GET', `/v1/tickets/${idOrNumber}`, { as: 'agent' })).body;

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);

    t.test('a shadow ticket is closed as superseded when the policy switches to enforce and the tenant trips again', async (t) => {
      await api.request('PUT', '/v1/tenants/shady', { body: { name: 'Shady Mail' } });
      await api.request('PUT', '/v1/tenants/shady/contacts', { body: contactList({ tam: null }) });
      t.equal((await api.request('PUT', '/v1/tenants/shady/policy', { body: { policy: { mode: 'shadow' }, reason: 'trying new thresholds' } })).status, 200);
      const [shadowNumber] = await trip(api, 'shady');
      const shadow = await ticketOf(api, shadowNumber!);
      t.match(shadow, { state: 'shadow', closedAt: null, attempts: [] }, 'a shadow ticket, not closed, that contacts nobody');

      t.equal((await api.request('PUT', '/v1/tenants/shady/policy', { body: { policy: { mode: 'enforce' }, reason: 'thresholds proven' } })).status, 200);
      api.clock.advance(60_000);
      const opened = await trip(api, 'shady');
      t.equal(opened.length, 1, 'the next trip opens a real ticket');
      t.not(opened[0], shadowNumber);

      const closed = await ticketOf(api, shadowNumber!);
      t.match(closed, { state: 'dismissed', open: false, walking: false });
      t.ok(closed.closedAt, 'the shadow ticket is closed');
      t.match(closed.events.filter((e: { type: string }) => e.type === 'superseded'), [{ type: 'superseded', fromState: 'shadow', toState: 'dismissed' }], 'on the record as superseded');

      const real = await ticketOf(api, opened[0]!);
      t.match(real, { state: 'notifying', open: true, walking: true, tenantId: 'shady' });
      t.ok(real.attempts.some((a: { kind: string; contactName: string }) => a.kind === 'call' && a.contactName === ALICE.name), 'and its walk calls the first contact');
      const open = await api.request('GET', '/v1/tickets?tenantId=shady&state=open', { as: 'agent' });
      t.same(open.body.items.map((i: { number: string }) => i.number), [opened[0]], 'only the real ticket is open');
    });

    t.test('a dismissal starts no probation; a resolve does', async (t) => {
      const dismissed = await openTicket(api, 'false-positive');
      t.equal((await api.request('POST', `/v1/tickets/${dismissed.id}/dismiss`, { as: 'agent', body: { reason: 'a newsletter, not spam' } })).status, 200);
      const afterDismiss = await api.request('GET', '/v1/tenants/false-positive', { as: 'agent' });
      t.equal(afterDismiss.status, 200);
      t.equal(afterDismiss.body.probation, null, 'no probation after a dismissal');
      t.notOk(afterDismiss.body.events.some((e: { type: string }) => e.type === 'probation.started'));

      const resolved = await openTicket(api, 'real-spammer');
      t.equal((await api.request('POST', `/v1/tickets/${resolved.id}/resolve`, { as: 'agent', body: { note: 'password reset' } })).status, 200);
      const afterResolve = await api.request('GET', '/v1/tenants/real-spammer', { as: 'agent' });
      const now = api.clock.now().getTime();
      t.match(afterResolve.body.probation, { active: true }, 'probation after a resolve');
      t.equal(new Date(afterResolve.body.probation.until).getTime(), new Date(afterResolve.body.probation.since).getTime() + 24 * 3600_000, 'for the default 24 hours');
      t.ok(new Date(afterResolve.body.probation.until).getTime() > now);
    });

    t.test("the walk goes on with the contact list as it was when the ticket opened", async (t) => {
      const ticket = await openTicket(api, 'reorg', { contacts: contactList({ tam: null }) });
      const first = ticket.attempts.find((a: { kind: string }) => a.kind === 'call');
      t.match(first, { contactName: ALICE.name, address: ALICE.phone, status: 'pending' });

      const newList = [
        { name: 'Carol Current', phone: '+14155550201', email: 'carol@tenant.example', role: 'contact' },
        { name: 'Dave Deputy', phone: '+14155550202', email: 'dave@tenant.example', role: 'contact' },
      ];
      t.equal((await api.request('PUT', '/v1/tenants/reorg/contacts', { body: newList })).status, 200);
      const tenant = await api.request('GET', '/v1/tenants/reorg', { as: 'agent' });
      t.same(tenant.body.contacts.map((c: { name: string }) => c.name), ['Carol Current', 'Dave Deputy'], 'the tenant has the new list');

      api.clock.advance(30_000);
      const ended = await api.db
        .transaction()
        .execute((trx) => recordCallOutcome(trx, first.id, 'no-answer', { now: api.clock.now(), resolutionTimeoutSeconds: RESOLUTION_TIMEOUT_SECONDS, actor: 'system:notifier', destinations: [], error: null }));
      t.ok(ended.applied, "Alice's call ends unanswered");

      const after = await ticketOf(api, ticket.id);
      const calls = after.attempts.filter((a: { kind: string }) => a.kind === 'call').map((a: { contactName: string; address: string }) => [a.contactName, a.address]);
      t.same(calls, [[ALICE.name, ALICE.phone], [BOB.name, BOB.phone]], "the next call goes to the old list's next contact");
      t.notOk(after.attempts.some((a: { contactName: string }) => /Carol|Dave/.test(a.contactName)), 'nobody of the new list is contacted for this ticket');
      t.same(after.contacts.map((c: { name: string }) => c.name), [ALICE.name, BOB.name], 'the ticket keeps the list of its opening');
    });

    t.test('60 resolution page views and submissions a minute per client address; the 61st gets 429 with Retry-After', async (t) => {
      const ticket = await openTicket(api, 'limited');
      const token = await issueResolutionToken(api.db, ticket.id, api.clock.now());
      const from = (remoteAddress: string, method: 'GET' | 'POST', url: string, payload?: object) => api.app.inject({ method, url, remoteAddress, ...(payload ? { payload } : {}) });
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) statuses.push((await from('203.0.113.7', 'GET', `/resolve/${token}`)).statusCode);
      // Submissions with a wrong token count against the same address (and stay under the per-ticket limit).
      for (let i = 0; i < 5; i++) statuses.push((await from('203.0.113.7', 'POST', '/v1/resolutions', { ticketNumber: ticket.number, token: 'x'.repeat(43), actionsTaken: 'We reset every mailbox password.' })).statusCode);
      for (let i = 0; i < 5; i++) statuses.push((await from('203.0.113.7', 'GET', `/resolve/${'y'.repeat(43)}`)).statusCode);
      t.same(statuses, [...Array(50).fill(200), ...Array(5).fill(404), ...Array(5).fill(404)], 'the first 60 requests are answered');

      const limited = await from('203.0.113.7', 'GET', `/resolve/${token}`);
      t.equal(limited.statusCode, 429, 'the 61st within the minute is refused');
      const retryAfter = Number(limited.headers['retry-after']);
      t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After says when to come back (${limited.headers['retry-after']})`);
      t.equal((await from('203.0.113.7', 'POST', '/v1/resolutions', { ticketNumber: ticket.number, token, actionsTaken: 'We reset every mailbox password.' })).statusCode, 429, 'a submission too');
      t.equal((await from('198.51.100.9', 'GET', `/resolve/${token}`)).statusCode, 200, 'another address is not limited');

      api.clock.advance(59_000);
      t.equal((await from('203.0.113.7', 'GET', `/resolve/${token}`)).statusCode, 429, 'still refused before the minute is over');
      api.clock.advance(1_000);
      t.equal((await from('203.0.113.7', 'GET', `/resolve/${token}`)).statusCode, 200, 'a minute later it works again');
      t.equal((await from('203.0.113.7', 'POST', '/v1/resolutions', { ticketNumber: ticket.number, token, actionsTaken: 'We reset every mailbox password.' })).statusCode, 202);
    });

    t.test("a tenant tripping again while its ticket is open burns no ticket number", async (t) => {
      const first = await openTicket(api, 'repeat-a');
      const n = Number(first.number.slice('ABU-'.length));
      for (let i = 0; i < 3; i++) {
        api.clock.advance(60_000);
        t.same(await trip(api, 'repeat-a'), [], 'a later trip opens no ticket');
      }
      t.equal((await ticketOf(api, first.id)).tripCount, 4, 'the three later trips were added to the open ticket');
      const next = await openTicket(api, 'repeat-b');
      t.equal(next.number, `ABU-${String(n + 1).padStart(6, '0')}`, "the next tenant's ticket gets the next number");
    });
  });
}
