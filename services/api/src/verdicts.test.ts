// HTTP verdict ingest (SPEC §4): validation per verdict, dedupe, per-minute counts, and tickets opened by a burst.
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import { cleanBurst, spamBurst, verdict, verdictBurst } from '@abuse-desk/testkit';
import t from 'tap';
import { PROBLEM, openTestApi } from './test-app.js';

const MINUTE = 60_000;

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    const at = new Date(Math.floor(api.clock.now().getTime() / MINUTE) * MINUTE - 10 * MINUTE + 15_000);

    t.test('a mixed batch answers how many were accepted, duplicated and rejected, and why', async (t) => {
      const first = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: [{ tenantId: 'mixed', messageId: '<m1@mixed>', verdict: 'spam', occurredAt: at.toISOString() }] });
      t.equal(first.status, 200);
      t.same(first.body, { accepted: 1, duplicates: 0, rejected: 0, errors: [], ticketsOpened: [] });

      const r = await api.request('POST', '/v1/verdicts', {
        as: 'ingest',
        body: [
          { tenantId: 'mixed', messageId: '<m2@mixed>', verdict: 'phish', occurredAt: at.toISOString(), sender: 'x@mixed.example', recipients: 3, score: 9.5, engine: 'rspamd' },
          { tenantId: 'mixed', messageId: '<m1@mixed>', verdict: 'spam', occurredAt: at.toISOString() },
          { tenantId: 'mixed', verdict: 'spam', occurredAt: at.toISOString() },
          { tenantId: 'mixed', messageId: '<m3@mixed>', verdict: 'ham', occurredAt: at.toISOString() },
          { tenantId: 'mixed', messageId: '<m4@mixed>', verdict: 'spam', occurredAt: 'yesterday at noon' },
          42,
          { tenantId: 'not valid!', messageId: '<m5@mixed>', verdict: 'spam', occurredAt: at.toISOString() },
        ],
      });
      t.equal(r.status, 200);
      t.match(r.body, { accepted: 1, duplicates: 1, rejected: 5, ticketsOpened: [] });
      t.same(r.body.errors.map((e: { index: number }) => e.index), [2, 3, 4, 5, 6], 'each rejected one by its index');
      const reason = (i: number) => r.body.errors.find((e: { index: number }) => e.index === i).reason as string;
      t.match(reason(2), /messageId/);
      t.match(reason(3), /verdict/);
      t.match(reason(4), /occurredAt.*RFC 3339/);
      t.match(reason(5), /object/);
      t.match(reason(6), /tenantId/);

      const counted = await storedRows(api.db, 'counts', { tenant_id: 'mixed' });
      t.equal(counted.reduce((n, c) => n + c.spam + c.phish + c.virus + c.clean, 0), 2, 'only the valid verdicts were counted');
      t.equal((await storedRows(api.db, 'tenants', { id: 'not valid!' })).length, 0, 'a rejected verdict creates no tenant');
    });

    t.test('a verdict dated year 0000 is refused by name: PostgreSQL has no year 0', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: [{ tenantId: 'ancient', messageId: '<m@ancient>', verdict: 'spam', occurredAt: '0000-06-01T00:00:00Z' }] });
      t.equal(r.status, 200);
      t.match(r.body, { accepted: 0, rejected: 1, errors: [{ index: 0, reason: /occurredAt.*year 0001 or later/ }] });
    });

    t.test('a verdict repeated inside one batch is counted once', async (t) => {
      const one = verdict({ tenantId: 'twice', verdict: 'clean', at });
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: [one, one] });
      t.equal(r.status, 200);
      t.match(r.body, { accepted: 1, duplicates: 1, rejected: 0 });
    });

    t.test('a body that is not an array is refused with 400', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: verdict({ tenantId: 'x', at }) });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { status: 400, errors: [{ field: 'body' }] });
    });

    t.test('more than 10,000 verdicts in one request are refused with 400 and none is counted', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: cleanBurst('huge', 10_001, { at }) });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { status: 400, errors: [{ field: 'body', message: /10000/ }] });
      t.equal((await storedRows(api.db, 'counts', { tenant_id: 'huge' })).length, 0);
      t.equal((await storedRows(api.db, 'tenants', { id: 'huge' })).length, 0);
    });

    t.test('exactly 10,000 verdicts (a body over 1 MiB) are all accepted', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: cleanBurst('huge', 10_000, { at, sender: 'newsletter@huge.example' }) });
      t.equal(r.status, 200);
      t.same(r.body, { accepted: 10_000, duplicates: 0, rejected: 0, errors: [], ticketsOpened: [] });
    });

    t.test('a burst over the default policy opens exactly one ticket and returns its number', async (t) => {
      await api.request('PUT', '/v1/tenants/burst', { body: { name: 'Burst Mail' } });
      const batch = [...spamBurst('burst', 55, { at, sender: 'billing@burst.example' }), ...verdictBurst('burst', 5, { verdict: 'phish', at, sender: 'it@burst.example' }), ...cleanBurst('burst', 40, { at })];
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: batch });
      t.equal(r.status, 200);
      t.match(r.body, { accepted: 100, duplicates: 0, rejected: 0 });
      t.equal(r.body.ticketsOpened.length, 1);
      const number: string = r.body.ticketsOpened[0];
      t.match(number, /^ABU-\d{6}$/);

      const ticket = await api.request('GET', `/v1/tickets/${number}`, { as: 'agent' });
      t.equal(ticket.status, 200);
      t.match(ticket.body, {
        number,
        tenantId: 'burst',
        rule: 'spam',
        severity: 'normal',
        tripCount: 1,
        evidence: { rule: 'spam', windowSeconds: 600, counts: { spam: 55, phish: 5, virus: 0, clean: 40 }, total: 100, ratio: 0.6, topSenders: [{ sender: 'billing@burst.example', count: 55 }, { sender: 'it@burst.example', count: 5 }] },
      });

      const more = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst('burst', 10, { at }) });
      t.same(more.body.ticketsOpened, [], 'a later trip opens no second ticket');
      const tickets = await api.request('GET', '/v1/tickets?tenantId=burst', { as: 'agent' });
      t.equal(tickets.body.items.length, 1, 'one open ticket per tenant');
      t.equal(tickets.body.items[0].tripCount, 2, 'the later trip is added to it');
      t.equal(tickets.body.items[0].evidence.counts.spam, 65);
    });

    t.test('a burst below the threshold opens no ticket', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst('quiet', 49, { at }) });
      t.same(r.body.ticketsOpened, []);
      t.equal((await api.request('GET', '/v1/tickets?tenantId=quiet', { as: 'agent' })).body.items.length, 0);
    });

    t.test('the counts endpoint returns per-minute buckets in event time', async (t) => {
      const m0 = new Date(Math.floor(at.getTime() / MINUTE) * MINUTE - 2 * MINUTE); // the start of a minute
      await api.request('POST', '/v1/verdicts', {
        as: 'ingest',
        body: [...spamBurst('counted', 3, { at: m0 }), ...verdictBurst('counted', 2, { verdict: 'virus', at: new Date(m0.getTime() + 30_000) }), ...cleanBurst('counted', 4, { at: new Date(m0.getTime() + MINUTE) }), ...verdictBurst('counted', 1, { verdict: 'phish', at: new Date(m0.getTime() + MINUTE + 59_000) })],
      });
      const r = await api.request('GET', '/v1/tenants/counted/counts', { as: 'agent' });
      t.equal(r.status, 200);
      const minute = (d: Date) => new Date(Math.floor(d.getTime() / MINUTE) * MINUTE).toISOString();
      t.same(r.body.buckets, [
        { bucketStart: minute(m0), spam: 3, phish: 0, virus: 2, clean: 0, complaint: 0 },
        { bucketStart: minute(new Date(m0.getTime() + MINUTE)), spam: 0, phish: 1, virus: 0, clean: 4, complaint: 0 },
      ]);
      t.match(r.body, { tenantId: 'counted', from: String, to: api.clock.now().toISOString() });

      const narrow = await api.request('GET', `/v1/tenants/counted/counts?from=${encodeURIComponent(minute(new Date(m0.getTime() + MINUTE)))}&to=${encodeURIComponent(api.clock.now().toISOString())}`, { as: 'agent' });
      t.equal(narrow.status, 200);
      t.equal(narrow.body.buckets.length, 1, 'from and to bound the buckets');

      const backwards = await api.request('GET', `/v1/tenants/counted/counts?from=${encodeURIComponent(api.clock.now().toISOString())}&to=${encodeURIComponent(m0.toISOString())}`, { as: 'agent' });
      t.equal(backwards.status, 400);
      t.match(backwards.contentType, PROBLEM);
      t.match(backwards.body, { errors: [{ field: 'querystring.from' }] });
    });

    t.test('a tenant first seen in verdicts is listed, without contacts, and its ticket is flagged', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst('newcomer', 60, { at, sender: 'a@newcomer.example' }) });
      t.equal(r.body.ticketsOpened.length, 1);
      const list = await api.request('GET', '/v1/tenants?limit=500', { as: 'agent' });
      const tenant = list.body.items.find((i: { id: string }) => i.id === 'newcomer');
      t.match(tenant, { id: 'newcomer', name: 'newcomer', contacts: [], outbound: { enabled: true }, openTicket: { number: r.body.ticketsOpened[0], noContacts: true } });
      t.equal(tenant.openTicket.state, 'awaiting_response', 'with nobody to call, the walk is exhausted at once');
    });

    t.test('a verdict post answers 401 without a token and counts nothing', async (t) => {
      const r = await api.request('POST', '/v1/verdicts', { as: null, body: spamBurst('anon', 1, { at }) });
      t.equal(r.status, 401);
      t.match(r.contentType, PROBLEM);
      t.equal((await storedRows(api.db, 'tenants', { id: 'anon' })).length, 0);
    });
  });
}
