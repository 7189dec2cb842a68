// Builds the process from its configuration: database, logger, channels, the roles in ROLES, and the
// HTTP server (the full API with the api role, health and metrics only without it).
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { buildApp, buildOpsApp, redactUrl } from '@abuse-desk/api';
import type { ApiDeps } from '@abuse-desk/api';
import { createConsoleEmailChannel, createConsoleSmsChannel, createConsoleVoiceChannel, createSmtpEmailChannel, createTwilioClient, createTwilioSmsChannel, createTwilioVoiceChannel } from '@abuse-desk/channels';
import type { Config } from '@abuse-desk/config';
import { startCounter } from '@abuse-desk/counter';
import { connect, ensureAdminToken, migrateToLatest } from '@abuse-desk/db';
import type { DbHandle } from '@abuse-desk/db';
import { createKafkaDeliverer, createWebhookDeliverer, startEnforcer, startPublisher } from '@abuse-desk/enforcer';
import { startIntake } from '@abuse-desk/intake';
import { registerCallQueueMetrics, startNotifier } from '@abuse-desk/notifier';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** Secrets never reach the log: tokens, credentials, authorization headers. */
export const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'adminToken',
  '*.adminToken',
  'authToken',
  '*.authToken',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'smtpUrl',
  '*.smtpUrl',
  'clientSecret',
  '*.clientSecret',
  'stampSecret',
  '*.stampSecret',
  'req.headers.cookie',
  'headers.cookie',
  'cookie',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
      // fastify logs every request; resolution tokens travel in the path, so the URL is redacted here.
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url ?? ''), remoteAddress: req.ip }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination as never,
  );
}

export interface Runtime {
  app: FastifyInstance;
  handle: DbHandle;
  logger: Logger;
  /** The admin token generated at this first start, to print once; null otherwise. */
  generatedAdminToken: string | null;
  close(): Promise<void>;
}

/**
 * Keeps the embedded database's WebAssembly on V8's baseline compiler (Liftoff). By default V8 recompiles
 * PGlite's hot functions with its optimising compiler while the process starts: on 2 cores that took about
 * a second of the start and 60 MB of resident code, for queries 10–20 % faster once warm (bench/embedded).
 * Must run before PGlite compiles its module; V8 reads these flags at compile time.
 */
export function useBaselineWasmCompiler(): void {
  setFlagsFromString('--no-wasm-dynamic-tiering --no-wasm-tier-up');
}

export async function createRuntime(config: Config, logger: Logger, clock = { now: () => new Date() }): Promise<Runtime> {
  if (!config.databaseUrl) useBaselineWasmCompiler();
  const handle = await connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onIdleError: (err) => logger.warn({ err }, 'database.idle_connection_error') });
  logger.info({ engine: handle.engine, roles: config.roles, voice: config.twilio ? 'twilio' : 'console', email: config.smtp ? 'smtp' : 'console' }, 'database.connected');
  const applied = await migrateToLatest(handle.db);
  if (applied.length) logger.info({ applied }, 'database.migrated');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const db = handle.db;
  registerCallQueueMetrics(registry, db, clock);
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const roles = new Set(config.roles);
  const stops: (() => Promise<void>)[] = [];

  let generatedAdminToken: string | null = null;
  if (roles.has('api')) {
    const admin = await ensureAdminToken(db, config.adminToken);
    generatedAdminToken = admin.generated;
    if (admin.configuredRevoked) logger.warn({ hint: 'ADMIN_TOKEN was revoked or rotated through the API and is not accepted; remove it or set a new one' }, 'admin_token.revoked');
  }

  const email = config.smtp ? createSmtpEmailChannel({ url: config.smtp.url, from: config.smtp.from, logger, timeoutMs: (config.workLeaseSeconds * 1000) / 3 }) : createConsoleEmailChannel({ logger, outboxDir: path.join(config.dataDir, 'outbox') });
  stops.push(() => email.close());
  // Real credentials always mean real calls: the console channel is never used when they are given.
  // Like SMTP: a request times out well within the lease, so a slow create is looked up by the notifier
  // that sent it, never taken over by another (or by the same process's other loop) as a dead one.
  const twilioClient = config.twilio && createTwilioClient({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken, apiBaseUrl: config.twilio.apiBaseUrl, timeoutMs: Math.min(10_000, (config.workLeaseSeconds * 1000) / 3) });
  const voice = config.twilio && twilioClient
    ? createTwilioVoiceChannel({
        client: twilioClient,
        fromNumber: config.twilio.fromNumber,
        publicBaseUrl: config.publicBaseUrl,
        ringSeconds: config.callRingSeconds,
        resultTimeoutSeconds: config.callResultTimeoutSeconds,
        logger,
      })
    : createConsoleVoiceChannel({ logger, ringSeconds: config.callRingSeconds });
  const sms = config.twilio && twilioClient
    ? createTwilioSmsChannel({ client: twilioClient, messagingServiceSid: config.twilio.messagingServiceSid, fromNumber: config.twilio.fromNumber, publicBaseUrl: config.publicBaseUrl, logger })
    : createConsoleSmsChannel({ logger });

  const nudges: (() => void)[] = [];
  const readiness: ApiDeps['readiness'] = [];
  const onWorkQueued = () => nudges.forEach((n) => n());
  if (roles.has('counter')) {
    const counter = await startCounter({ db, config, logger, clock, registry, onWorkQueued });
    readiness.push(...counter.readiness);
    stops.push(counter.stop);
  }
  if (roles.has('notifier')) {
    const notifier = startNotifier({ db, config, logger, clock, email, voice, sms, registry, workerId });
    nudges.push(notifier.nudge);
    stops.push(notifier.stop);
  }
  if (roles.has('enforcer')) {
    const enforcer = startEnforcer({ db, config, logger, clock, registry });
    nudges.push(enforcer.nudge);
    stops.push(enforcer.stop);
    if (config.enforcementWebhook) {
      const publisher = startPublisher({ db, logger, clock, registry, workerId, leaseSeconds: config.workLeaseSeconds }, createWebhookDeliverer(config.enforcementWebhook));
      nudges.push(publisher.nudge);
      stops.push(publisher.stop);
    }
    if (config.kafka) {
      const publisher = startPublisher({ db, logger, clock, registry, workerId, leaseSeconds: config.workLeaseSeconds }, await createKafkaDeliverer(config.kafka, logger));
      nudges.push(publisher.nudge);
      stops.push(publisher.stop);
    }
  }

  if (roles.has('intake')) {
    const intake = await startIntake({ db, config, logger, clock, registry, workerId, onWorkQueued });
    nudges.push(intake.nudge);
    stops.push(intake.stop);
  }

  const deps: ApiDeps = { db, config, logger, clock, registry, readiness, onWorkQueued };
  const app = roles.has('api') ? await buildApp(deps) : await buildOpsApp(deps);

  return {
    app,
    handle,
    logger,
    generatedAdminToken,
    close: async () => {
      await app.close();
      // Loops first (they use the database and the channels), then the channels, then the database.
      for (const stop of stops.reverse()) await stop();
      await handle.close();
    },
  };
}
