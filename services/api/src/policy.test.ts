// The default policy and per-tenant overrides (SPEC §5): the documented default, every feature accepted,
// round trips, audit events, and how an override merges over the default.
import { ENGINES, deleteRows, storedRows } from '@abuse-desk/db/testing';
import { spamBurst } from '@abuse-desk/testkit';
import t from 'tap';
import { PROBLEM, openTestApi } from './test-app.js';

// The example of SPEC §5 without the parts that come later (surge, probation).
const SPEC_DEFAULT = {
  mode: 'enforce',
  windowSeconds: 600,
  minSpam: 50,
  minSpamRatio: 0.05,
  critical: { windowSeconds: 300, minVirus: 5, action: 'escalate' },
};

const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    const stored = () => storedRows(api.db, 'settings', { key: 'default_policy' });
    await api.request('PUT', '/v1/tenants/acme', { body: { name: 'ACME Mail' } });

    t.test('the default policy is the example of SPEC §5', async (t) => {
      const r = await api.request('GET', '/v1/policy', { as: 'agent' });
      t.equal(r.status, 200);
      t.same(r.body, SPEC_DEFAULT);
    });

    const accepted = (name: string, policy: Record<string, unknown>) =>
      t.test(name, async (t) => {
        const r = await api.request('PUT', '/v1/policy', { body: policy });
        t.equal(r.status, 200);
        t.same(r.body, policy);
        t.same((await api.request('GET', '/v1/policy', { as: 'agent' })).body, policy, 'it round-trips');
        t.equal((await api.request('PUT', '/v1/policy', { body: SPEC_DEFAULT })).status, 200, 'and the documented default is put back');
        await deleteRows(api.db, 'settings', { key: 'default_policy' });
      });

    accepted('a policy in shadow mode is accepted', { ...SPEC_DEFAULT, mode: 'shadow' });
    accepted('a critical rule that suspends is accepted', { ...SPEC_DEFAULT, critical: { ...SPEC_DEFAULT.critical, action: 'suspend' } });
    accepted('a surge rule is accepted', { ...SPEC_DEFAULT, surge: { windowSeconds: 300, multiple: 20, baselineDays: 7, minVolume: 1000 } });
    accepted('probation settings are accepted', { ...SPEC_DEFAULT, probation: { hours: 24, factor: 0.5 } });
    accepted('redial settings are accepted', { ...SPEC_DEFAULT, callAttempts: 3, redialAfterSeconds: 300 });

    t.test('callAttempts beyond 3 and a redial sooner than 5 s are refused naming the field', async (t) => {
      const r = await api.request('PUT', '/v1/policy', { body: { ...SPEC_DEFAULT, callAttempts: 4, redialAfterSeconds: 1 } });
      t.equal(r.status, 400);
      t.same(fields(r.body).sort(), ['body.callAttempts', 'body.redialAfterSeconds']);
    });

    t.test('a policy with an out-of-range value is refused naming the field', async (t) => {
      const r = await api.request('PUT', '/v1/policy', { body: { ...SPEC_DEFAULT, minSpamRatio: 1.5, windowSeconds: 10 } });
      t.equal(r.status, 400);
      t.match(r.contentType, PROBLEM);
      t.same(fields(r.body).sort(), ['body.minSpamRatio', 'body.windowSeconds']);
      t.same(await stored(), []);
    });

    t.test('a valid policy round-trips and applies to the next verdicts', async (t) => {
      const policy = { mode: 'enforce', windowSeconds: 300, minSpam: 5, minSpamRatio: 0.5, critical: { windowSeconds: 120, minVirus: 2, action: 'escalate' } };
      const put = await api.request('PUT', '/v1/policy', { body: policy });
      t.equal(put.status, 200);
      t.same(put.body, policy);
      t.same((await api.request('GET', '/v1/policy', { as: 'agent' })).body, policy);
      t.match(await stored(), [{ updated_by: 'admin:test admin' }]);

      const r = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst('strict', 5, { at: api.clock.now() }) });
      t.equal(r.body.ticketsOpened.length, 1, 'five spam now trip the policy');
    });

    t.test('a policy without the optional critical rule is accepted', async (t) => {
      const policy = { mode: 'enforce', windowSeconds: 600, minSpam: 50, minSpamRatio: 0.05 };
      const put = await api.request('PUT', '/v1/policy', { body: policy });
      t.equal(put.status, 200);
      t.same((await api.request('GET', '/v1/policy', { as: 'agent' })).body, policy);
      t.equal((await api.request('PUT', '/v1/policy', { body: SPEC_DEFAULT })).status, 200, 'and the documented default is put back');
    });

    t.test('a tenant override shows the default, the override and the policy in force', async (t) => {
      const absent = await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' });
      t.equal(absent.status, 200);
      t.same(absent.body, { tenantId: 'acme', default: SPEC_DEFAULT, override: null, effective: SPEC_DEFAULT });

      const expiresAt = new Date(api.clock.now().getTime() + 86400_000).toISOString();
      const put = await api.request('PUT', '/v1/tenants/acme/policy', { body: { policy: { minSpam: 200, critical: { minVirus: 20 } }, reason: 'a large reseller', expiresAt } });
      t.equal(put.status, 200);
      const expected = {
        tenantId: 'acme',
        default: SPEC_DEFAULT,
        override: { policy: { minSpam: 200, critical: { minVirus: 20 } }, reason: 'a large reseller', expiresAt, setBy: 'admin:test admin', setAt: api.clock.now().toISOString(), expired: false },
        effective: { ...SPEC_DEFAULT, minSpam: 200, critical: { ...SPEC_DEFAULT.critical, minVirus: 20 } },
      };
      t.same(put.body, expected);
      t.same((await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' })).body, expected);
    });

    t.test('the override applies to that tenant only', async (t) => {
      const acme = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst('acme', 60, { at: api.clock.now() }) });
      t.same(acme.body.ticketsOpened, [], 'acme needs 200 spam now');
      const other = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst('other', 60, { at: api.clock.now() }) });
      t.equal(other.body.ticketsOpened.length, 1, 'another tenant trips at 50');
    });

    t.test('every policy feature can be overridden per tenant, and each change is an audit event on the tenant', async (t) => {
      const before = (await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' })).body;
      for (const policy of [{ mode: 'shadow' }, { critical: { action: 'suspend' } }, { surge: { windowSeconds: 300, multiple: 20, baselineDays: 7, minVolume: 1000 } }, { probation: { hours: 24, factor: 0.5 } }]) {
        const r = await api.request('PUT', '/v1/tenants/acme/policy', { body: { policy, reason: 'try it' } });
        t.equal(r.status, 200, JSON.stringify(policy));
        t.match(r.body.effective, policy);
      }
      const tenant = (await api.request('GET', '/v1/tenants/acme', { as: 'agent' })).body;
      t.ok(tenant.events.filter((e: { type: string }) => e.type === 'policy.override.set').length >= 4, 'each override is recorded on the tenant');
      t.match(tenant.events[0], { type: 'policy.override.set', actor: 'admin:test admin', reason: 'try it' });
      // Put the earlier override back for the tests that follow.
      const o = before.override;
      t.equal((await api.request('PUT', '/v1/tenants/acme/policy', { body: { policy: o.policy, reason: o.reason, ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) } })).status, 200);
    });

    t.test('an override needs a reason and an expiry in the future', async (t) => {
      const noReason = await api.request('PUT', '/v1/tenants/acme/policy', { body: { policy: { minSpam: 10 } } });
      t.equal(noReason.status, 400);
      t.ok(fields(noReason.body).includes('body.reason'));
      const past = await api.request('PUT', '/v1/tenants/acme/policy', { body: { policy: { minSpam: 10 }, reason: 'old', expiresAt: new Date(api.clock.now().getTime() - 1000).toISOString() } });
      t.equal(past.status, 400);
      t.match(past.contentType, PROBLEM);
      t.same(fields(past.body), ['body.expiresAt']);
      t.equal((await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' })).body.override.policy.minSpam, 200, 'the previous override is kept');
    });

    t.test('an expired override no longer applies', async (t) => {
      api.clock.advance(2 * 86400_000);
      const r = await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' });
      t.match(r.body, { override: { expired: true }, effective: SPEC_DEFAULT });
    });

    t.test('an agent may read but not set or delete an override', async (t) => {
      t.equal((await api.request('PUT', '/v1/tenants/acme/policy', { as: 'agent', body: { policy: { minSpam: 1 }, reason: 'mine' } })).status, 403);
      t.equal((await api.request('DELETE', '/v1/tenants/acme/policy', { as: 'agent' })).status, 403);
      t.not((await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' })).body.override, null, 'the override is still there');
    });

    t.test('deleting an override answers 204, then 404', async (t) => {
      const del = await api.request('DELETE', '/v1/tenants/acme/policy');
      t.equal(del.status, 204);
      t.equal(del.text, '');
      t.same((await api.request('GET', '/v1/tenants/acme/policy', { as: 'agent' })).body, { tenantId: 'acme', default: SPEC_DEFAULT, override: null, effective: SPEC_DEFAULT });
      const again = await api.request('DELETE', '/v1/tenants/acme/policy');
      t.equal(again.status, 404);
      t.match(again.contentType, PROBLEM);
      t.match(again.body, { status: 404, detail: /override/ });
    });

    t.test('the policy of an unknown tenant is 404', async (t) => {
      t.equal((await api.request('GET', '/v1/tenants/ghost/policy', { as: 'agent' })).status, 404);
      const put = await api.request('PUT', '/v1/tenants/ghost/policy', { body: { policy: { minSpam: 1 }, reason: 'ghost' } });
      t.equal(put.status, 404);
      t.match(put.contentType, PROBLEM);
      t.equal((await storedRows(api.db, 'tenant_policies')).length, 0);
      t.equal((await api.request('DELETE', '/v1/tenants/ghost/policy')).status, 404);
    });
  });
}
