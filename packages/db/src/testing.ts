// Test support: every database test runs on both engines, each suite on its own fresh database.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import pg from 'pg';
import { connect } from './connect.js';
import type { Db, DbHandle } from './connect.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';
import { claimNextCall } from './pacing.js';

export const ENGINES = ['pglite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export const testDatabaseUrl = (env: Record<string, string | undefined>) => env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Creates an empty PostgreSQL database on the test server; returns its URL and a function that drops it. */
export async function createPostgresDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `abuse_desk_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestDb extends DbHandle {
  /** The database URL for other processes (postgres only). */
  url: string | undefined;
}

/** A migrated database of the given engine; `close()` also drops it. */
export async function openTestDb(engine: Engine, env: Record<string, string | undefined>): Promise<TestDb> {
  if (engine === 'pglite') {
    const handle = await connect({ dataDir: 'memory://' });
    await migrateToLatest(handle.db);
    return { ...handle, url: undefined };
  }
  const created = await createPostgresDatabase(testDatabaseUrl(env));
  const handle = await connect({ databaseUrl: created.url, poolSize: 5 });
  await migrateToLatest(handle.db);
  return {
    ...handle,
    url: created.url,
    close: async () => {
      await handle.close();
      await created.drop();
    },
  };
}

type Filter = Record<string, string | number | boolean | null>;

/** What a test looks at after an action: a table's rows as stored, filtered by equal columns, in `orderBy` order. */
export async function storedRows<T extends keyof Database>(db: Db, table: T, where: Filter = {}, orderBy?: string): Promise<Selectable<Database[T]>[]> {
  let q = (db as Kysely<any>).selectFrom(table).selectAll();
  for (const [column, value] of Object.entries(where)) q = value === null ? q.where(sql.ref(column), 'is', null) : q.where(sql.ref(column), '=', value);
  if (orderBy) q = q.orderBy(sql.ref(orderBy));
  return (await q.execute()) as Selectable<Database[T]>[];
}

/** Removes a table's rows matching the filter (a test putting a setting back to none). */
export async function deleteRows(db: Db, table: keyof Database, where: Filter): Promise<void> {
  let q = (db as Kysely<any>).deleteFrom(table);
  for (const [column, value] of Object.entries(where)) q = q.where(sql.ref(column), '=', value);
  await q.execute();
}

/** Claims every call waiting to be placed, most urgent first (as dialers holding enough slots would). */
export async function claimAllCalls(db: Db, o: { now: Date; leaseSeconds: number; workerId: string }) {
  const claimed = [];
  for (let c = await claimNextCall(db, o); c; c = await claimNextCall(db, o)) claimed.push(c);
  return claimed;
}
