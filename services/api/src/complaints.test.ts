// Complaint reports over HTTP and IP assignments (issue 17), on both engines: POST /v1/complaints stores the
// raw report for the ingest role only and only as message/rfc822; agents list reports without their raw
// bytes; PUT /v1/tenants/{id}/ips normalises ranges, refuses host bits and overlapping assignments of the
// same range, and a reassignment for a later period is accepted.
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import t from 'tap';
import { PROBLEM, openTestApi } from './test-app.js';

const REPORT = 'From: fbl@provider.example\r\nSubject: report\r\nContent-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n\r\n--b--\r\n';

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine, { INTAKE_MAX_MESSAGE_BYTES: '20000' });
    const rfc822 = { 'content-type': 'message/rfc822' };

    t.test('POST /v1/complaints stores the raw report (ingest role, message/rfc822) and answers 202', async (t) => {
      const r = await api.request('POST', '/v1/complaints', { as: 'ingest', body: REPORT, headers: rfc822 });
      t.equal(r.status, 202, r.text);
      t.match(r.body, { id: String, status: 'queued' });
      const [row] = await storedRows(api.db, 'complaint_reports', { id: r.body.id });
      t.equal(Buffer.from(row!.raw).toString('utf8'), REPORT, 'byte for byte');
      t.match(row, { source: 'api', status: 'pending' });
      const listed = await api.request('GET', '/v1/complaints?outcome=pending', { as: 'agent' });
      t.match(listed.body.items, [{ id: r.body.id, source: 'api', status: 'pending', outcome: null }]);
      t.notOk('raw' in listed.body.items[0], 'the list never carries the raw message');
    });

    t.test('refused: another role, no token, another media type, an empty or oversized body', async (t) => {
      const before = (await storedRows(api.db, 'complaint_reports', {})).length;
      t.equal((await api.request('POST', '/v1/complaints', { as: 'agent', body: REPORT, headers: rfc822 })).status, 403);
      t.equal((await api.request('POST', '/v1/complaints', { as: null, body: REPORT, headers: rfc822 })).status, 401);
      const json = await api.request('POST', '/v1/complaints', { as: 'ingest', body: { raw: REPORT } });
      t.equal(json.status, 415);
      t.match(json.contentType, PROBLEM);
      t.equal((await api.request('POST', '/v1/complaints', { as: 'ingest', body: '', headers: rfc822 })).status, 400);
      const big = await api.request('POST', '/v1/complaints', { as: 'ingest', body: REPORT + 'x'.repeat(20_001), headers: rfc822 });
      t.equal(big.status, 413);
      t.match(big.contentType, PROBLEM);
      t.equal((await storedRows(api.db, 'complaint_reports', {})).length, before, 'nothing stored');
    });

    t.test('IP assignments: normalised, host bits refused, an overlapping assignment of the same range refused, a later reassignment accepted', async (t) => {
      for (const id of ['initech', 'globex']) t.equal((await api.request('PUT', `/v1/tenants/${id}`, { body: { name: id } })).status, 200);
      const set = await api.request('PUT', '/v1/tenants/initech/ips', { body: [{ cidr: '198.51.100.0/24', validUntil: '2026-06-01T00:00:00Z' }, { cidr: '192.0.2.7' }, { cidr: '2001:DB8::/32', note: 'v6' }] });
      t.equal(set.status, 200, set.text);
      t.same(set.body.ips.map((i: any) => i.cidr).sort(), ['192.0.2.7/32', '198.51.100.0/24', '2001:db8::/32']);
      const bits = await api.request('PUT', '/v1/tenants/globex/ips', { body: [{ cidr: '192.0.2.1/24' }] });
      t.equal(bits.status, 400);
      t.match(bits.body.errors, [{ field: 'body.0.cidr', message: /host bits/ }]);
      const backwards = await api.request('PUT', '/v1/tenants/globex/ips', { body: [{ cidr: '203.0.113.0/24', validFrom: '2026-02-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }] });
      t.equal(backwards.status, 400);
      const overlap = await api.request('PUT', '/v1/tenants/globex/ips', { body: [{ cidr: '198.51.100.0/24', validFrom: '2026-05-01T00:00:00Z' }] });
      t.equal(overlap.status, 409);
      t.match(overlap.body.detail, /198\.51\.100\.0\/24.*initech/);
      const later = await api.request('PUT', '/v1/tenants/globex/ips', { body: [{ cidr: '198.51.100.0/24', validFrom: '2026-06-01T00:00:00Z' }] });
      t.equal(later.status, 200, 'the range from the day initech gave it up');
      const got = await api.request('GET', '/v1/tenants/globex/ips', { as: 'agent' });
      t.same(got.body, { tenantId: 'globex', ips: [{ cidr: '198.51.100.0/24', validFrom: '2026-06-01T00:00:00.000Z', validUntil: null, note: null }] });
      t.equal((await api.request('PUT', '/v1/tenants/globex/ips', { as: 'agent', body: [] })).status, 403, 'only an admin changes them');
      t.equal((await api.request('GET', '/v1/tenants/nobody/ips', { as: 'agent' })).status, 404);
    });
  });
}
