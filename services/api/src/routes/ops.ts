// Liveness, readiness and Prometheus metrics: served by every process whatever its roles.
import type { FastifyPluginAsync } from 'fastify';
import { ping } from '@abuse-desk/db';
import type { ApiDeps } from '../app.js';

export const opsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const c of [{ name: 'database', check: () => ping(deps.db) }, ...deps.readiness]) {
      try {
        await c.check();
        checks[c.name] = 'ok';
      } catch (err) {
        ready = false;
        checks[c.name] = err instanceof Error ? err.message : String(err);
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
};
