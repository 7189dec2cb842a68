// Tenants and their contact lists (SPEC §7): validation at the edge, 404s, and problem+json for every refusal.
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import { TAM, verdict } from '@abuse-desk/testkit';
import t from 'tap';
import { CONTACTS, PROBLEM, openTestApi } from './test-app.js';

const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    const contactRows = () => storedRows(api.db, 'contacts', { tenant_id: 'acme' }, 'position');

    t.test('an admin creates a tenant and an agent reads it with its outbound status', async (t) => {
      const put = await api.request('PUT', '/v1/tenants/acme', { body: { name: 'ACME Mail', notes: 'reseller' } });
      t.equal(put.status, 200);
      t.match(put.body, { id: 'acme', name: 'ACME Mail', notes: 'reseller', outbound: { tenantId: 'acme', enabled: true }, contacts: [], openTicket: null });

      const get = await api.request('GET', '/v1/tenants/acme', { as: 'agent' });
      t.equal(get.status, 200);
      t.same(get.body, put.body);
    });

    t.test('a second PUT updates the tenant in place', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme', { body: { name: 'ACME Mail GmbH' } });
      t.equal(r.status, 200);
      t.match(r.body, { id: 'acme', name: 'ACME Mail GmbH', notes: null });
      const list = await api.request('GET', '/v1/tenants', { as: 'agent' });
      t.same(list.body.items.map((i: { id: string }) => i.id), ['acme']);
    });

    t.test('a tenantId with characters outside [A-Za-z0-9._:-] is refused with 400 naming the field', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme%20mail!', { body: { name: 'Bad' } });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { title: 'Bad Request', status: 400 });
      t.same(fields(r.body), ['params.tenantId']);
      t.match(r.body.detail, /params\.tenantId/);
      t.equal((await storedRows(api.db, 'tenants')).length, 1, 'no tenant was created');
    });

    t.test('a tenant without a name is refused with 400 naming the field', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/other', { body: { notes: 'x' } });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.same(fields(r.body), ['body.name']);
    });

    t.test('an admin replaces the ordered contact list', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme/contacts', {
        body: [...CONTACTS, { ...TAM, phone: '+442071838750', preferredChannel: 'phone' }],
      });
      t.equal(r.status, 200);
      t.equal(r.body.tenantId, 'acme');
      t.match(r.body.contacts, [
        { id: String, name: 'Alice Admin', phone: '+14155550101', email: 'alice@tenant.example', role: 'contact', timezone: 'Europe/Berlin' },
        { id: String, name: 'Bob Backup', email: 'bob@tenant.example', role: 'contact' },
        { id: String, name: 'Tara TAM', role: 'tam', preferredChannel: 'phone' },
      ]);
      const tenant = await api.request('GET', '/v1/tenants/acme', { as: 'agent' });
      t.same(tenant.body.contacts.map((c: { name: string }) => c.name), ['Alice Admin', 'Bob Backup', 'Tara TAM'], 'in the order given');
    });

    const refusedContact = (name: string, contact: Record<string, unknown>, field: string, message: RegExp) =>
      t.test(name, async (t) => {
        const before = await contactRows();
        const r = await api.request('PUT', '/v1/tenants/acme/contacts', { body: [CONTACTS[0], contact] });
        t.equal(r.status, 400);
        t.match(r.contentType, PROBLEM);
        t.ok(fields(r.body).includes(field), `errors name ${field}: ${JSON.stringify(r.body.errors)}`);
        t.match(r.body.errors.find((e: { field: string }) => e.field === field).message, message);
        t.same(await contactRows(), before, 'the stored list is unchanged');
      });

    refusedContact('a contact phone not in E.164 is refused naming body.1.phone', { name: 'P', phone: '0171 555 0100', role: 'contact' }, 'body.1.phone', /E\.164/);
    refusedContact('a contact with an invalid email is refused naming body.1.email', { name: 'E', email: 'not-an-email', role: 'contact' }, 'body.1.email', /email/);
    refusedContact('a contact with an unknown time zone is refused naming body.1.timezone', { name: 'Z', email: 'z@acme.example', role: 'contact', timezone: 'Mars/Olympus' }, 'body.1.timezone', /IANA/);
    refusedContact('a contact with neither phone nor email is refused', { name: 'N', role: 'contact' }, 'body.1.phone', /phone or an email/);
    refusedContact('a contact with an unknown role is refused naming body.1.role', { name: 'R', email: 'r@acme.example', role: 'boss' }, 'body.1.role', /./);
    refusedContact('a contact preferring the phone without a phone number is refused', { name: 'C', email: 'c@acme.example', role: 'tam', preferredChannel: 'phone' }, 'body.1.preferredChannel', /phone/);
    refusedContact('a contact preferring SMS without a phone number is refused', { name: 'S', email: 's@acme.example', role: 'contact', preferredChannel: 'sms' }, 'body.1.preferredChannel', /sms needs a phone number/);
    refusedContact('a TAM preferring SMS is refused (a TAM is briefed by email, SMS have no digest)', { name: 'T', phone: '+14155550177', role: 'tam', preferredChannel: 'sms' }, 'body.1.preferredChannel', /for walk contacts/);

    t.test('a contact may prefer SMS: texted instead of called', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme/contacts', { body: [{ name: 'Sam Sms', phone: '+14155550178', role: 'contact', preferredChannel: 'sms' }] });
      t.equal(r.status, 200);
      t.match(r.body.contacts, [{ name: 'Sam Sms', phone: '+14155550178', preferredChannel: 'sms' }]);
    });

    t.test('the first contact of a list is named body.0', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme/contacts', { body: [{ name: 'P', phone: '12345', role: 'contact' }] });
      t.equal(r.status, 400);
      t.ok(fields(r.body).includes('body.0.phone'));
    });

    t.test('contacts of an unknown tenant are refused with 404 and nothing is stored', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/ghost/contacts', { body: CONTACTS });
      t.equal(r.status, 404);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { title: 'Not Found', status: 404, detail: /ghost/ });
      t.equal((await storedRows(api.db, 'contacts', { tenant_id: 'ghost' })).length, 0);
      t.equal((await storedRows(api.db, 'tenants', { id: 'ghost' })).length, 0);
    });

    t.test('an unknown tenant is 404 on every read', async (t) => {
      for (const path of ['/v1/tenants/ghost', '/v1/tenants/ghost/outbound', '/v1/tenants/ghost/counts', '/v1/tenants/ghost/policy']) {
        const r = await api.request('GET', path, { as: 'agent' });
        t.equal(r.status, 404, path);
        t.match(r.contentType, PROBLEM, path);
        t.match(r.body, { status: 404, instance: path }, path);
      }
    });

    t.test('malformed JSON is refused with a 400 problem', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme', { body: '{"name": "ACME', headers: { 'content-type': 'application/json' } });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { type: 'about:blank', title: 'Bad Request', status: 400, detail: /JSON/ });
      t.equal((await api.request('GET', '/v1/tenants/acme')).body.name, 'ACME Mail GmbH', 'the tenant is unchanged');
    });

    t.test('a body of a media type the api does not read is refused with 415', async (t) => {
      const r = await api.request('PUT', '/v1/tenants/acme', { body: '<tenant name="x"/>', headers: { 'content-type': 'application/xml' } });
      t.equal(r.status, 415);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { status: 415, title: 'Unsupported Media Type' });
    });

    t.test('an unknown route is a 404 problem', async (t) => {
      const r = await api.request('GET', '/v1/nothing-here?x=1');
      t.equal(r.status, 404);
      t.match(r.contentType, PROBLEM);
      t.match(r.body, { type: 'about:blank', title: 'Not Found', status: 404, instance: '/v1/nothing-here', detail: 'no route for GET /v1/nothing-here' });
    });

    t.test('the tenant list pages by id', async (t) => {
      for (const id of ['b-tenant', 'c-tenant']) await api.request('PUT', `/v1/tenants/${id}`, { body: { name: id } });
      const first = await api.request('GET', '/v1/tenants?limit=2', { as: 'agent' });
      t.equal(first.status, 200);
      t.same(first.body.items.map((i: { id: string }) => i.id), ['acme', 'b-tenant']);
      t.equal(first.body.nextAfter, 'b-tenant');
      const rest = await api.request('GET', `/v1/tenants?limit=2&after=${first.body.nextAfter}`, { as: 'agent' });
      t.same(rest.body.items.map((i: { id: string }) => i.id), ['c-tenant']);
      t.equal(rest.body.nextAfter, null);
    });

    // SPEC §4 allows tenant ids of up to 128 characters, and verdict ingest creates such tenants; fastify's
    // default maxParamLength (100) answers 414 with its own JSON for longer path parameters, before any
    t.test('a tenant id of 128 characters, the most SPEC §4 allows, is addressable', async (t) => {
      const id = 'l'.repeat(128);
      const ingest = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: [verdict({ tenantId: id, verdict: 'clean', at: api.clock.now() })] });
      t.equal(ingest.body.accepted, 1, 'verdict ingest accepts the id and creates the tenant');
      const outbound = await api.request('GET', `/v1/tenants/${id}/outbound`, { as: 'ingest' });
      t.equal(outbound.status, 200, 'an MTA can ask whether it may send');
      t.match(outbound.contentType, /json/);
      const put = await api.request('PUT', `/v1/tenants/${id}`, { body: { name: 'Long' } });
      t.equal(put.status, 200, 'an admin can name it');
      const tooLong = await api.request('GET', `/v1/tenants/${'l'.repeat(129)}`, { as: 'agent' });
      t.equal(tooLong.status, 400, 'one character more is a 400 naming the field');
      t.match(tooLong.contentType, PROBLEM, 'as a problem');
    });
  });
}
