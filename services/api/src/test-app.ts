// Test support for the api role's *.test.ts files: the app built over a fresh database of one engine,
// a token of each role, a clock the test moves, and the few requests most tests start from.
import { loadConfig } from '@abuse-desk/config';
import { connect, createApiToken } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import { openTestDb, storedRows, testDatabaseUrl } from '@abuse-desk/db/testing';
import type { Engine } from '@abuse-desk/db/testing';
import { TestClock, contactList, spamBurst } from '@abuse-desk/testkit';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApp } from './app.js';

export type Role = 'admin' | 'agent' | 'ingest';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  contentType: string;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any;
}

export interface RequestOptions {
  /** Whose token to send (default admin); null sends none; any other string is sent as the token. */
  as?: Role | null | (string & {});
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestApi {
  app: FastifyInstance;
  db: Db;
  clock: TestClock;
  registry: Registry;
  tokens: Record<Role, string>;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, options?: RequestOptions): Promise<Reply>;
}

export const RESOLUTION_TIMEOUT_SECONDS = 3600;

/** The api over a fresh, migrated database of `engine`; closed (and the database dropped) at teardown. */
export async function openTestApi(t: { teardown(fn: () => unknown): void }, engine: Engine, env: Record<string, string> = {}): Promise<TestApi> {
  const h = await openTestDb(engine, process.env);
  t.teardown(async () => {
    await h.db.destroy();
    if (h.url) await backendsGone(h.url);
    await h.close();
  });
  const config = loadConfig({ RESOLUTION_TIMEOUT_SECONDS: String(RESOLUTION_TIMEOUT_SECONDS), PUBLIC_BASE_URL: 'http://abuse.test', ...env });
  const clock = new TestClock();
  const registry = new Registry();
  const app = await buildApp({ db: h.db, config, logger: pino({ level: 'silent' }), clock, registry, readiness: [] });
  t.teardown(() => app.close());
  const tokens: Record<Role, string> = {
    admin: (await createApiToken(h.db, 'test admin', 'admin')).token,
    agent: (await createApiToken(h.db, 'test agent', 'agent')).token,
    ingest: (await createApiToken(h.db, 'test ingest', 'ingest')).token,
  };

  const request: TestApi['request'] = async (method, url, options = {}) => {
    const as = options.as === undefined ? 'admin' : options.as;
    const token = as === null ? null : as in tokens ? tokens[as as Role] : as;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers };
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (options.body !== undefined && typeof options.body !== 'string' && !headers['content-type']) headers['content-type'] = 'application/json';
    const r = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    const contentType = String(r.headers['content-type'] ?? '');
    let body: unknown;
    if (/json/.test(contentType) && r.body) body = JSON.parse(r.body);
    return { status: r.statusCode, headers: r.headers, contentType, text: r.body, body };
  };

  return { app, db: h.db, clock, registry, tokens, request };
}

/**
 * Waits until the server has no session left on a test database. pg-pool's end() resolves before its
 * sockets are closed, and openTestDb's close() drops the database WITH (FORCE) at once: a session still
 * open then receives 57P01, and the pool, which has no 'error' listener, throws it as an uncaught exception.
 */
async function backendsGone(url: string) {
  const name = new URL(url).pathname.slice(1);
  const admin = await connect({ databaseUrl: testDatabaseUrl(process.env), poolSize: 1 });
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = ${name}`.execute(admin.db);
      if (rows[0]!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await admin.close();
  }
}

export const PROBLEM = /^application\/problem\+json/;

/** Contacts under which a new ticket stays `notifying`: Alice has a phone, so the walk waits for her call; no TAM. */
export const CONTACTS = contactList({ bob: { phone: undefined }, tam: null });

/**
 * Creates a tenant with contacts and sends a spam burst over the default policy (50 spam, ratio ≥ 5 %);
 * returns the opened ticket as GET /v1/tickets/{number} shows it.
 */
export async function openTicket(api: TestApi, tenantId: string, o: { contacts?: unknown[]; sender?: string } = {}) {
  const tenant = await api.request('PUT', `/v1/tenants/${tenantId}`, { body: { name: `${tenantId} Mail` } });
  if (tenant.status !== 200) throw new Error(`PUT tenant: ${tenant.status} ${tenant.text}`);
  const contacts = await api.request('PUT', `/v1/tenants/${tenantId}/contacts`, { body: o.contacts ?? CONTACTS });
  if (contacts.status !== 200) throw new Error(`PUT contacts: ${contacts.status} ${contacts.text}`);
  const ingest = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: spamBurst(tenantId, 60, { at: api.clock.now(), sender: o.sender ?? `billing@${tenantId}.example` }) });
  if (ingest.status !== 200 || ingest.body.ticketsOpened.length !== 1) throw new Error(`POST verdicts: ${ingest.status} ${ingest.text}`);
  const ticket = await api.request('GET', `/v1/tickets/${ingest.body.ticketsOpened[0]}`, { as: 'agent' });
  return ticket.body;
}

/** The number of events a ticket has, to show that a refused request appended none. */
export async function eventCount(api: TestApi, ticketId: string): Promise<number> {
  const rows = await storedRows(api.db, 'ticket_events', { ticket_id: ticketId });
  return rows.length;
}
