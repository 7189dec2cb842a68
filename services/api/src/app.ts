// The fastify app factory: buildApp(deps) wires every plugin explicitly and never listens, so tests use
// app.inject() and main.ts owns the socket. buildOpsApp serves only health and metrics, for processes
// that do not run the api role.
import type { Config } from '@abuse-desk/config';
import type { Db } from '@abuse-desk/db';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { clientProblem, refuseNul } from './hardening.js';
import { componentsInUse } from './openapi.js';
import { Problem, registerErrorHandler, sendProblem } from './problems.js';
import { acknowledgementRoutes } from './routes/acknowledgements.js';
import { opsRoutes } from './routes/ops.js';
import { policyRoutes } from './routes/policy.js';
import { resolutionRoutes } from './routes/resolutions.js';
import { sessionRoutes } from './routes/session.js';
import { tenantRoutes } from './routes/tenants.js';
import { ticketRoutes } from './routes/tickets.js';
import { tokenRoutes } from './routes/tokens.js';
import { twilioRoutes } from './routes/twilio.js';
import { complaintRoutes } from './routes/complaints.js';
import { verdictRoutes } from './routes/verdicts.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface ApiDeps {
  db: Db;
  config: Config;
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
  readiness: ReadinessCheck[];
  /** Called after a request queued work (attempts, deadlines), so same-process workers start at once. */
  onWorkQueued?: () => void;
}

export { redactUrl } from './log-redaction.js';

/** The ticket UI (packages/ui, built by `pnpm build`), served under /ui/ with the SPA's index for its routes. */
const UI_DIR = fileURLToPath(new URL('../../../packages/ui/dist', import.meta.url));

async function registerUi(app: FastifyInstance) {
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/'));
  if (!existsSync(path.join(UI_DIR, 'index.html'))) {
    app.get('/ui/*', { schema: { hide: true } }, async (_request, reply) =>
      sendProblem(reply, new Problem(503, 'Service Unavailable', 'the ticket UI is not built: run `pnpm build`')),
    );
    return;
  }
  await app.register(fastifyStatic, { root: UI_DIR, prefix: '/ui/', wildcard: false, index: ['index.html'] });
  app.get('/ui/*', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));
}

function baseApp(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ role: 'api' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Tenant ids may be 128 characters (SPEC §4); leave room for encoding.
    routerOptions: { maxParamLength: 512 },
    // Malformed URLs and the like get the same problem+json shape as every other error.
    frameworkErrors: (err, _request, reply) => {
      void sendProblem(reply, new Problem(err.statusCode && err.statusCode < 500 ? err.statusCode : 400, 'Bad Request', err.message));
    },
    // …and so do the refusals of Node's HTTP parser, before there is a request at all (a header too large,
    // a malformed request line).
    clientErrorHandler: clientProblem,
    // Behind a reverse proxy: the client's address from X-Forwarded-For, believed only from these proxies.
    trustProxy: deps.config.trustProxy.length ? deps.config.trustProxy : false,
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  // The one clock of the process, also for token expiry in the auth hook.
  app.decorate('clock', deps.clock);
  app.addHook('preValidation', refuseNul);
  return app;
}

/**
 * Security headers on every response, HTML and JSON (issue 15): a Content-Security-Policy that allows no
 * inline script or style and no framing, nosniff, X-Frame-Options DENY, and no Referer (the resolution
 * page's URL carries its token).
 */
export const SECURITY_HEADERS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
  crossOriginEmbedderPolicy: false,
};

export async function buildOpsApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = baseApp(deps);
  await app.register(helmet, SECURITY_HEADERS);
  await app.register(opsRoutes, { deps });
  return app;
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = baseApp(deps);
  await app.register(helmet, SECURITY_HEADERS);
  await app.register(formbody);
  await app.register(cookie);
  app.decorate('uiSessions', { limits: deps.config.session, secure: new URL(deps.config.publicBaseUrl).protocol === 'https:' });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'abuse-desk', version: '0.1.0', description: 'Outbound-abuse detection and tenant suspension for multi-tenant mail platforms.' },
      servers: [{ url: deps.config.publicBaseUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'abuse-desk-session', description: 'the ticket UI\'s session (`__Host-abuse-desk-session` over https); changes also need the X-CSRF-Token header from GET /v1/session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: componentsInUse,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(opsRoutes, { deps });
  await app.register(sessionRoutes, { deps });
  await app.register(tokenRoutes, { deps });
  await app.register(tenantRoutes, { deps });
  await app.register(policyRoutes, { deps });
  await app.register(verdictRoutes, { deps });
  await app.register(complaintRoutes, { deps });
  await app.register(ticketRoutes, { deps });
  await app.register(resolutionRoutes, { deps });
  await app.register(acknowledgementRoutes, { deps });
  await app.register(twilioRoutes, { deps });
  await registerUi(app);
  return app;
}
