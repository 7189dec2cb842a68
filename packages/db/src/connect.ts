// One code path to the database: kysely over node-postgres when a URL is given, embedded PGlite otherwise.
import { sql } from 'kysely';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

// PostgreSQL's default buffer pool (128 MB) lives in PGlite's WebAssembly heap and is resident from the
// start: it was a third of the embedded process's memory. 16 MB holds this service's working set
// (bench/embedded measures the process on it, the demo included).
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * Where the initialised database for the installed PGlite is kept: `data/` to copy into a fresh data
 * directory, `data.tar.gz` to load into a `memory://` one. Made once at build by preparePgliteTemplate.
 */
function pgliteTemplate() {
  const pkg = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  const root = fileURLToPath(new URL(`./pglite-template/${version}`, import.meta.url));
  return { root, dir: path.join(root, 'data'), tarball: path.join(root, 'data.tar.gz') };
}

/**
 * Runs initdb for the installed PGlite once and keeps the result (see pgliteTemplate); true if it was made
 * now. initdb is most of a first start on PGlite — seconds, and a second WebAssembly instance whose heap
 * stays resident long after — so the build does it, and a fresh data directory is a copy.
 */
export async function preparePgliteTemplate(): Promise<boolean> {
  const template = pgliteTemplate();
  if (existsSync(template.root)) return false;
  // Built aside and renamed into place, so that a build cut short or running alongside another leaves no
  // half-made template.
  const work = `${template.root}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(path.join(work, 'data'), { recursive: true });
  const pglite = await PGlite.create(path.join(work, 'data'), { startParams: PGLITE_START_PARAMS });
  const tarball = await pglite.dumpDataDir('gzip');
  await pglite.close();
  writeFileSync(path.join(work, 'data.tar.gz'), Buffer.from(await tarball.arrayBuffer()));
  try {
    renameSync(work, template.root);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(template.root)) throw err;
    return false;
  }
  return true;
}

async function openPGlite(dataDir: string): Promise<PGlite> {
  const template = pgliteTemplate();
  const prepared = existsSync(template.root);
  if (dataDir.startsWith('memory://')) {
    const loadDataDir = prepared ? new Blob([readFileSync(template.tarball)]) : undefined;
    return PGlite.create(dataDir, { startParams: PGLITE_START_PARAMS, ...(loadDataDir ? { loadDataDir } : {}) });
  }
  mkdirSync(dataDir, { recursive: true });
  // PGlite resumes a directory that has PG_VERSION and runs initdb in one that has not; copied last, it
  // makes a copy cut short be redone at the next start. Without a template PGlite runs initdb itself.
  if (prepared && !existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const version = path.join(template.dir, 'PG_VERSION');
    cpSync(template.dir, dataDir, { recursive: true, filter: (source) => source !== version });
    copyFileSync(version, path.join(dataDir, 'PG_VERSION'));
  }
  return PGlite.create(dataDir, { startParams: PGLITE_START_PARAMS });
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
  const pglite = await openPGlite(options.dataDir ?? '.data');
  const db = new Kysely<Database>({ dialect: new ExclusivePGliteDialect({ pglite }) });
  return { db, engine: 'pglite', close: () => db.destroy() };
}

/** A round trip to the database (readiness). */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
