// One code path to the database: kysely over node-postgres when a URL is given, embedded PGlite otherwise.
import { sql } from 'kysely';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import type { DatabaseConnection, Driver, TransactionSettings } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface ConnectOptions {
  /** postgres://… — unset means embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory, or 'memory://' for a throwaway database. */
  dataDir?: string;
  /** Postgres schema to use (tests give each suite its own). */
  schema?: string;
  poolSize?: number;
  /** Told about errors of idle pooled connections (a server restart, a failover), which are otherwise fatal. */
  onIdleError?: (err: Error) => void;
}

export interface DbHandle {
  db: Db;
  engine: 'postgres' | 'pglite';
  close(): Promise<void>;
}

// PGlite has a single connection and kysely's PGlite driver does not serialise users of it: a query
// issued while another caller's transaction is open would run inside that transaction. This driver
// hands the connection to one caller at a time, the way kysely's SQLite driver does.
class ExclusiveDriver implements Driver {
  #inner: Driver;
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;
  constructor(inner: Driver) {
    this.#inner = inner;
  }
  init() {
    return this.#inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.#release = release;
    return this.#inner.acquireConnection();
  }
  async releaseConnection(connection: DatabaseConnection) {
    await this.#inner.releaseConnection(connection);
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    return this.#inner.beginTransaction(connection, settings);
  }
  commitTransaction(connection: DatabaseConnection) {
    return this.#inner.commitTransaction(connection);
  }
  rollbackTransaction(connection: DatabaseConnection) {
    return this.#inner.rollbackTransaction(connection);
  }
  destroy() {
    return this.#inner.destroy();
  }
}

class ExclusivePGliteDialect extends PGliteDialect {
  override createDriver(): Driver {
    return new ExclusiveDriver(super.createDriver());
  }
}

export async function connect(options: ConnectOptions): Promise<DbHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // Without a listener, an idle connection closed by the server would crash the process; the pool
    // replaces it on next use.
    pool.on('error', (err) => options.onIdleError?.(err));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  const dataDir = options.dataDir ?? '.data';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  const db = new Kysely<Database>({ dialect: new ExclusivePGliteDialect({ pglite }) });
  return { db, engine: 'pglite', close: () => db.destroy() };
}

/** A round trip to the database (readiness). */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
