// What operators and tools read (SPEC §2, §7): liveness, readiness, Prometheus metrics, and the generated
// OpenAPI document with its UI.
import { loadConfig } from '@abuse-desk/config';
import { ENGINES } from '@abuse-desk/db/testing';
import { cleanBurst } from '@abuse-desk/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { buildApp, buildOpsApp } from './app.js';
import type { ApiDeps } from './app.js';
import { PROBLEM, openTestApi } from './test-app.js';

/** The sum of a metric's samples whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m && Object.entries(labels).every(([k, v]) => m[1]!.split(',').includes(`${k}="${v}"`))) sum += Number(m[2]);
  }
  return sum;
}

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    const depsWith = (readiness: ApiDeps['readiness']): ApiDeps => ({
      db: api.db,
      config: loadConfig({ PUBLIC_BASE_URL: 'http://abuse.test' }),
      logger: pino({ level: 'silent' }),
      clock: api.clock,
      registry: new Registry(),
      readiness,
    });

    t.test('/healthz answers 200 to anyone', async (t) => {
      const r = await api.request('GET', '/healthz', { as: null });
      t.equal(r.status, 200);
      t.same(r.body, { status: 'ok' });
    });

    t.test('/readyz answers 200 with the database check ok', async (t) => {
      const r = await api.request('GET', '/readyz', { as: null });
      t.equal(r.status, 200);
      t.same(r.body, { status: 'ready', checks: { database: 'ok' } });
    });

    t.test('/readyz answers 503 naming the check that failed', async (t) => {
      const app = await buildApp(
        depsWith([
          {
            name: 'kafka',
            check: async () => {
              throw new Error('no broker reachable');
            },
          },
        ]),
      );
      t.teardown(() => app.close());
      const r = await app.inject({ method: 'GET', url: '/readyz' });
      t.equal(r.statusCode, 503);
      t.same(r.json(), { status: 'not ready', checks: { database: 'ok', kafka: 'no broker reachable' } });
    });

    t.test('/metrics is Prometheus text and counts verdicts ingested over HTTP', async (t) => {
      await api.request('POST', '/v1/verdicts', { as: 'ingest', body: [...cleanBurst('metered', 3, { at: api.clock.now() }), { nonsense: true }] });
      const r = await api.request('GET', '/metrics', { as: null });
      t.equal(r.status, 200);
      t.match(r.contentType, /^text\/plain/);
      t.match(r.text, /# TYPE abuse_desk_verdicts_total counter/);
      t.equal(sample(r.text, 'abuse_desk_verdicts_total', { source: 'http', result: 'counted' }), 3);
      t.equal(sample(r.text, 'abuse_desk_verdicts_total', { source: 'http', result: 'rejected' }), 1);
    });

    t.test('/openapi.json is an OpenAPI 3 document generated from the routes', async (t) => {
      const r = await api.request('GET', '/openapi.json', { as: null });
      t.equal(r.status, 200);
      t.match(r.contentType, /json/);
      t.match(r.body.openapi, /^3\./);
      t.match(r.body.info, { title: 'abuse-desk', version: String });
      t.same(r.body.servers, [{ url: 'http://abuse.test' }]);
      for (const path of ['/v1/tickets', '/v1/verdicts', '/v1/tenants/{tenantId}/contacts', '/v1/resolutions', '/v1/tickets/{id}/resolve', '/v1/policy', '/v1/tokens']) {
        t.ok(r.body.paths[path], `documents ${path}`);
      }
      t.ok(r.body.paths['/v1/tenants/{tenantId}/contacts'].put.requestBody, 'with the request body schema');
      t.same(r.body.paths['/v1/resolutions'].post.security, [], 'the resolution endpoint needs no bearer token');
      t.notOk(r.body.paths['/healthz'], 'operational routes are left out');
    });

    t.test('/docs answers with the OpenAPI UI', async (t) => {
      const r = await api.request('GET', '/docs', { as: null });
      t.ok(r.status === 200 || (r.status >= 300 && r.status < 400), `status ${r.status}`);
      const page = r.status === 200 ? r : await api.request('GET', new URL(String(r.headers['location']), 'http://abuse.test/docs/').pathname, { as: null });
      t.equal(page.status, 200);
      t.match(page.contentType, /^text\/html/);
    });

    t.test('a process without the api role serves health and metrics only', async (t) => {
      const app = await buildOpsApp(depsWith([]));
      t.teardown(() => app.close());
      t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
      const tickets = await app.inject({ method: 'GET', url: '/v1/tickets' });
      t.equal(tickets.statusCode, 404);
      t.match(tickets.headers['content-type'], PROBLEM);
    });
  });
}
