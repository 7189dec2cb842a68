// The token lifecycle (issue 15): tokens are listed (never shown again), expire, are revoked at once for
// every api process and rotated; each change is an audit event; a rotated ADMIN_TOKEN stays revoked.
import { loadConfig } from '@abuse-desk/config';
import { createApiToken, ensureAdminToken, rotateApiToken } from '@abuse-desk/db';
import { ENGINES, storedRows } from '@abuse-desk/db/testing';
import { TestClock } from '@abuse-desk/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { buildApp } from './app.js';
import { PROBLEM, openTestApi } from './test-app.js';

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    const create = async (body: object) => api.request('POST', '/v1/tokens', { body });
    const works = async (token: string) => (await api.request('GET', '/v1/tickets', { as: token })).status === 200;
    const audit = async (subject: string) => (await storedRows(api.db, 'audit_events', { subject })).map((e) => [e.type, e.actor]);

    t.test('a token is listed with who made it, its role, expiry and last use, and never the token itself', async (t) => {
      const made = await create({ name: 'dana', role: 'agent' });
      t.equal(made.status, 201);
      t.equal(made.body.expiresAt, null);
      const listed = () => api.request('GET', '/v1/tokens').then((r) => r.body.items.find((i: any) => i.id === made.body.id));
      t.match(await listed(), { name: 'dana', role: 'agent', createdBy: 'admin:test admin', lastUsedAt: null, expiresAt: null, revokedAt: null, active: true });
      const list = await api.request('GET', '/v1/tokens');
      t.notMatch(list.text, made.body.token, 'the list never shows a token');
      t.notOk('token' in (await listed()), 'no token field');
      t.ok(await works(made.body.token));
      const first = (await listed()).lastUsedAt;
      t.ok(first, 'its use is noted');
      t.ok(await works(made.body.token));
      t.equal((await listed()).lastUsedAt, first, 'a second use within the minute writes nothing');
      t.same(await audit(`token:${made.body.id}`), [['token.created', 'admin:test admin']]);
    });

    t.test('only an admin lists, revokes or rotates tokens', async (t) => {
      for (const [method, url] of [
        ['GET', '/v1/tokens'],
        ['DELETE', '/v1/tokens/00000000-0000-4000-8000-000000000000'],
        ['POST', '/v1/tokens/00000000-0000-4000-8000-000000000000/rotate'],
      ] as const) {
        const r = await api.request(method, url, { as: 'agent' });
        t.equal(r.status, 403, `${method} ${url}`);
        t.match(r.contentType, PROBLEM);
        t.equal((await api.request(method, url, { as: null })).status, 401);
      }
    });

    t.test('a token with expiresAt works until then and is refused after; one in the past is refused at creation', async (t) => {
      const past = await create({ name: 'late', role: 'ingest', expiresAt: new Date(api.clock.now().getTime() - 1000).toISOString() });
      t.equal(past.status, 400);
      t.match(past.body, { errors: [{ field: 'expiresAt', message: 'must be in the future' }] });
      t.equal((await create({ name: 'bad', role: 'ingest', expiresAt: 'tomorrow' })).status, 400, 'not RFC 3339');
      const expiresAt = new Date(api.clock.now().getTime() + 60_000).toISOString();
      const made = await create({ name: 'short', role: 'agent', expiresAt });
      t.equal(made.status, 201);
      t.equal(made.body.expiresAt, expiresAt);
      api.clock.advance(59_000);
      t.ok(await works(made.body.token), 'works a second before its expiry');
      api.clock.advance(1_000);
      t.notOk(await works(made.body.token), 'refused from its expiry on');
      const r = await api.request('GET', '/v1/tickets', { as: made.body.token });
      t.match(r.body, { status: 401, detail: /expired/ });
      const listed = (await api.request('GET', '/v1/tokens')).body.items.find((i: any) => i.id === made.body.id);
      t.match(listed, { expiresAt, revokedAt: null, active: false });
    });

    t.test('a revoked token is refused at once, also by a second api process over the same database', async (t) => {
      const other = await buildApp({ db: api.db, config: loadConfig({ PUBLIC_BASE_URL: 'http://abuse.test' }), logger: pino({ level: 'silent' }), clock: new TestClock(), registry: new Registry(), readiness: [] });
      t.teardown(() => other.close());
      const viaOther = async (token: string) => (await other.inject({ method: 'GET', url: '/v1/tickets', headers: { authorization: `Bearer ${token}` } })).statusCode;
      const made = await create({ name: 'leaked', role: 'agent' });
      t.equal(await viaOther(made.body.token), 200);
      const revoked = await api.request('DELETE', `/v1/tokens/${made.body.id}`);
      t.equal(revoked.status, 204);
      t.equal(await viaOther(made.body.token), 401, 'the other process refuses it on the very next request');
      t.equal((await api.request('GET', '/v1/tickets', { as: made.body.token })).status, 401);
      t.equal((await api.request('DELETE', `/v1/tokens/${made.body.id}`)).status, 204, 'revoking again is harmless');
      t.same(await audit(`token:${made.body.id}`), [['token.created', 'admin:test admin'], ['token.revoked', 'admin:test admin']], 'revoked once on the record');
      t.equal((await api.request('DELETE', '/v1/tokens/00000000-0000-4000-8000-000000000000')).status, 404);
      t.equal((await api.request('DELETE', '/v1/tokens/not-a-uuid')).status, 400);
    });

    t.test('rotating a token gives a new one with the same name and role and revokes the old one', async (t) => {
      const made = await create({ name: 'ci', role: 'ingest' });
      const rotated = await api.request('POST', `/v1/tokens/${made.body.id}/rotate`);
      t.equal(rotated.status, 201);
      t.match(rotated.body, { name: 'ci', role: 'ingest', expiresAt: null });
      t.not(rotated.body.id, made.body.id);
      t.equal((await api.request('GET', '/v1/tenants/x/outbound', { as: made.body.token })).status, 401, 'the old token is refused');
      t.notOk([401, 403].includes((await api.request('GET', '/v1/tenants/x/outbound', { as: rotated.body.token })).status), 'the new one is accepted');
      t.match(await audit(`token:${made.body.id}`), [['token.created', 'admin:test admin'], ['token.rotated', 'admin:test admin']]);
      t.equal((await api.request('POST', `/v1/tokens/${made.body.id}/rotate`)).status, 404, 'a revoked token cannot be rotated');
    });

    t.test('a rotated ADMIN_TOKEN stays revoked when the service restarts with the old value, and its replacement keeps working', async (t) => {
      const configured = `adk_configured_${engine}_0123456789abcdef`;
      await ensureAdminToken(api.db, configured);
      const [row] = await storedRows(api.db, 'api_tokens', { name: 'ADMIN_TOKEN' });
      const { token: replacement } = (await rotateApiToken(api.db, row!.id, 'admin:ops'))!;
      t.same(await ensureAdminToken(api.db, configured), { generated: null, configuredRevoked: true }, 'the restart says the configured token is revoked');
      t.notOk(await works(configured), 'the old ADMIN_TOKEN is refused');
      t.ok(await works(replacement), 'the replacement still works');
      const second = (await createApiToken(api.db, 'x', 'agent')).token;
      t.ok(await works(second));
    });
  });
}
