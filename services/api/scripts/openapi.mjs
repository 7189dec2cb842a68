// Writes the OpenAPI document the api role serves at GET /openapi.json (to the file named by the first
// argument, or stdout), from the built app over a throwaway in-memory database. Run after `pnpm build`;
// `pnpm lint:openapi` lints the result with Redocly.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@abuse-desk/config';
import { connect } from '@abuse-desk/db';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApp } from '../dist/index.js';

const handle = await connect({ dataDir: 'memory://' });
const app = await buildApp({
  db: handle.db,
  config: loadConfig({ PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? 'https://abuse-desk.invalid' }),
  logger: pino({ level: 'silent' }),
  clock: { now: () => new Date() },
  registry: new Registry(),
  readiness: [],
});
try {
  const r = await app.inject({ method: 'GET', url: '/openapi.json' });
  if (r.statusCode !== 200) throw new Error(`GET /openapi.json answered ${r.statusCode}: ${r.body}`);
  const text = `${JSON.stringify(JSON.parse(r.body), null, 2)}\n`;
  if (process.argv[2]) {
    mkdirSync(path.dirname(process.argv[2]), { recursive: true });
    writeFileSync(process.argv[2], text);
  } else {
    process.stdout.write(text);
  }
} finally {
  await app.close();
  await handle.close();
}
