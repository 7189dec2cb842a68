// The entry: load configuration, build the runtime for ROLES, listen, and shut down cleanly on SIGTERM.
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from '@abuse-desk/config';
import { createLogger, createRuntime } from './runtime.js';

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`abuse-desk: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const logger = createLogger(config);
let runtime;
try {
  runtime = await createRuntime(config, logger);
} catch (err) {
  logger.fatal({ err }, 'startup.failed');
  process.stderr.write(`abuse-desk: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const address = await runtime.app.listen({ host: config.host, port: config.port });
const rt = runtime;
closeWithGrace({ delay: 10_000, logger: { error: (m: unknown) => logger.error({ msg: m }, 'shutdown.slow') } as never }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutdown.after_error');
  logger.info({ signal }, 'shutdown.started');
  await rt.close();
  logger.info('shutdown.done');
});

const base = config.publicBaseUrl;
const lines = [
  '',
  `abuse-desk is running (${config.roles.join(', ')}) on ${address}, database: ${rt.handle.engine === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL'}`,
];
if (config.roles.includes('api')) {
  lines.push(`  Ticket UI: ${base}/ui/`, `  API:      ${base}/v1/…`, `  API docs: ${base}/docs  (OpenAPI: ${base}/openapi.json)`, `  Metrics:  ${base}/metrics`);
  if (rt.generatedAdminToken) {
    lines.push('', `  Admin token (shown only this once; only its hash is stored):`, `    ${rt.generatedAdminToken}`);
  } else {
    lines.push(`  Admin token: ${config.adminToken ? 'from ADMIN_TOKEN' : 'generated at the first start (printed then)'}`);
  }
}
process.stdout.write(lines.join('\n') + '\n\n');
logger.info({ address, roles: config.roles }, 'service.listening');
