// End-to-end harness: runs the real service as child processes (one process with every role, or one
// process per role) against PGlite or PostgreSQL, with a real SMTP server catching the emails.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase, testDatabaseUrl } from '@abuse-desk/db/testing';
import { contactList, verdictBurst } from '@abuse-desk/testkit';
import type { KafkaCluster } from '@abuse-desk/testkit';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'services/main/dist/main.js');
export const ADMIN_TOKEN = 'adk_e2e_admin_token_0123456789abcdef';

/**
 * Notes a secret the tests created or were given, for scripts/check-log-secrets.mjs: after the suite, no
 * service log may contain it.
 */
export function recordSecret(secret: string) {
  const dir = path.join(ROOT, 'test-artifacts', 'secrets');
  mkdirSync(dir, { recursive: true });
  appendFileSync(path.join(dir, `${process.pid}.txt`), `${secret}\n`);
}
recordSecret(ADMIN_TOKEN);

export type Arrangement = { engine: 'pglite' | 'postgres'; processes: 'one' | 'four' };
export const ARRANGEMENTS: Arrangement[] = [
  { engine: 'pglite', processes: 'one' },
  { engine: 'postgres', processes: 'one' },
  { engine: 'postgres', processes: 'four' },
];
export const label = (a: Arrangement) => `${a.engine}, ${a.processes === 'one' ? 'one process' : 'four role processes'}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Service {
  baseUrl: string;
  /** The PostgreSQL database of this service (postgres arrangements only). */
  databaseUrl: string | undefined;
  /** Base URL of each process (index into the role sets), as last started. */
  processUrls: string[];
  /** Process id of each process (index into the role sets), as last started. */
  pids: (number | undefined)[];
  /** (Re)starts the role processes. */
  start(): Promise<void>;
  /** SIGKILLs every process at once: no shutdown code runs. */
  kill(): Promise<void>;
  /** SIGKILLs / restarts one process (index into the role sets). */
  killProcess(index: number): Promise<void>;
  /** Stops one process with SIGTERM (its shutdown code runs), as a rolling restart does. */
  stopProcess(index: number): Promise<void>;
  startProcess(index: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  name: string;
  arrangement: Arrangement;
  env: Record<string, string>;
  /** Overrides the arrangement's processes: one entry per process, the roles it runs. */
  roleSets?: string[][];
}

/** Prepares (but does not start) a service; the database is created now and dropped by stop(). */
export async function prepareService(o: ServiceOptions): Promise<Service> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let dropDb: (() => Promise<void>) | undefined;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: baseUrl,
    ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    ...o.env,
  };
  if (o.arrangement.engine === 'postgres') {
    const db = await createPostgresDatabase(testDatabaseUrl(process.env));
    env['DATABASE_URL'] = db.url;
    dropDb = db.drop;
  } else {
    env['DATA_DIR'] = mkdtempSync(path.join(tmpdir(), 'abuse-desk-e2e-'));
  }
  const roleSets = o.roleSets ?? (o.arrangement.processes === 'one' ? [['api', 'counter', 'notifier', 'enforcer']] : [['api'], ['counter'], ['notifier'], ['enforcer']]);
  const logDir = path.join(ROOT, 'test-artifacts', 'logs');
  mkdirSync(logDir, { recursive: true });
  const children: (ChildProcess | undefined)[] = [];
  const processUrls: string[] = [];
  const pids: (number | undefined)[] = [];
  let generation = 0;

  const startProcess = async (index: number) => {
    generation += 1;
    const roles = roleSets[index]!;
    // The first api process serves PUBLIC_BASE_URL; any further api process (a replica) gets its own port.
    const isMainApi = roles.includes('api') && roleSets.findIndex((r) => r.includes('api')) === index;
    const childPort = isMainApi ? port : await freePort();
    const log = createWriteStream(path.join(logDir, `${o.name}.${index}-${roles.join('+')}.${generation}.log`));
    const child = spawn(process.execPath, [MAIN], { env: { ...env, ROLES: roles.join(','), PORT: String(childPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    children[index] = child;
    pids[index] = child.pid;
    processUrls[index] = `http://127.0.0.1:${childPort}`;
    await waitForHttp(`http://127.0.0.1:${childPort}/readyz`, child);
  };
  const start = async () => {
    for (let i = 0; i < roleSets.length; i++) await startProcess(i);
  };
  const killProcess = (index: number) =>
    new Promise<void>((resolve) => {
      const c = children[index];
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  const kill = async () => {
    await Promise.all(roleSets.map((_, i) => killProcess(i)));
  };
  const stopProcess = (index: number) =>
    new Promise<void>((resolve) => {
      const c = children[index];
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  const stop = async () => {
    await Promise.all(children.map((_, i) => stopProcess(i)));
    await dropDb?.();
  };
  return { baseUrl, databaseUrl: env['DATABASE_URL'], processUrls, pids, start, kill, killProcess, stopProcess, startProcess, stop };
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode} before it was ready (see test-artifacts/logs)`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

export interface Reply<T = any> {
  status: number;
  body: T;
}

export function client(baseUrl: string, token: string = ADMIN_TOKEN) {
  return async <T = any>(method: string, p: string, body?: unknown): Promise<Reply<T>> => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (HTML pages)
    }
    const shown = (parsed as { token?: unknown } | null)?.token;
    if (typeof shown === 'string') recordSecret(shown);
    return { status: res.status, body: parsed as T };
  };
}

/**
 * A burst that trips the default policy (50 spam at ≥ 5 %) the way mail arrives: a quarter of it clean,
 * from two senders, spread over the `n / 2` seconds before `at`, two recipients each.
 */
export function spamBurst(tenantId: string, n = 80, at = new Date()) {
  return verdictBurst(tenantId, n, (i) => ({
    verdict: i % 4 === 0 ? 'clean' : 'spam',
    at: new Date(at.getTime() - (n - i) * 500),
    sender: i % 3 === 0 ? `promo@${tenantId}.example` : `billing@${tenantId}.example`,
    recipients: 2,
  }));
}

/** testkit's contact list as it is: Alice and Bob with phones, and Tara the TAM. */
export const CONTACTS = contactList();

/**
 * For tests whose tenants share CONTACTS and that read each ticket's own emails: with several tenants
 * on one list every address is shared, and its messages would go into digests (surge-digests.test.ts).
 */
export const NO_DIGESTS = { DIGEST_MINUTES: '0' };

/** One query against a service's PostgreSQL database (a fresh connection: the test may stop the server). */
export async function query<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/**
 * A test's own verdict and control topics on the shared cluster, made as production makes them (replication
 * factor 3, min.insync.replicas=2), and the service environment that uses them with a group of its own.
 */
export async function kafkaTopics(cluster: KafkaCluster, name: string, { partitions = 4 }: { partitions?: number } = {}) {
  const env = { KAFKA_BROKERS: cluster.brokers, KAFKA_VERDICT_TOPIC: `${name}-verdicts`, KAFKA_CONTROL_TOPIC: `${name}-control`, KAFKA_GROUP_ID: `${name}-counter` };
  await cluster.createTopic(env.KAFKA_VERDICT_TOPIC, partitions, { replicationFactor: 3, minInsyncReplicas: 2 });
  await cluster.createTopic(env.KAFKA_CONTROL_TOPIC, partitions, { replicationFactor: 3, minInsyncReplicas: 2 });
  return env;
}
