// The embedded database's data directory: a fresh one starts from the template the build prepared (no initdb at
// start) and keeps its data across restarts. About PGlite's files on disk only, so it runs on PGlite alone.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { connect, preparePgliteTemplate } from './connect.js';
import { migrateToLatest } from './migrate.js';
import { upsertTenant } from './tenants.js';

t.before(() => preparePgliteTemplate());

t.test('a fresh data directory starts from the template and keeps its data across a restart', async (t) => {
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'abuse-desk-connect-')), 'data');
  t.teardown(() => rmSync(path.dirname(dataDir), { recursive: true, force: true }));

  const first = await connect({ dataDir });
  await migrateToLatest(first.db);
  await upsertTenant(first.db, 'acme', { name: 'Acme Mail' }, new Date());
  const settings = await sql<{ shared_buffers: string }>`select current_setting('shared_buffers') as shared_buffers`.execute(first.db);
  t.equal(settings.rows[0]!.shared_buffers, '16MB', 'with the small buffer pool');
  // initdb gives every cluster its own identifier: the same one in a memory:// database means both are copies.
  const inMemory = await connect({ dataDir: 'memory://' });
  const systemId = sql<{ id: string }>`select system_identifier::text as id from pg_control_system()`;
  t.equal((await systemId.execute(first.db)).rows[0]!.id, (await systemId.execute(inMemory.db)).rows[0]!.id, 'copied from the template, like a memory:// one');
  await inMemory.close();
  await first.close();
  t.ok(existsSync(path.join(dataDir, 'PG_VERSION')), 'the directory holds a database');

  const again = await connect({ dataDir });
  t.teardown(() => again.close());
  t.same(await migrateToLatest(again.db), [], 'nothing to migrate after a restart');
  const tenants = await again.db.selectFrom('tenants').select('name').execute();
  t.same(tenants, [{ name: 'Acme Mail' }], 'what the first start wrote is there');
});

t.test('a copy cut short before PG_VERSION is made again at the next start', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'abuse-desk-connect-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  mkdirSync(path.join(dataDir, 'base'));
  writeFileSync(path.join(dataDir, 'postgresql.conf'), '');

  const handle = await connect({ dataDir });
  t.teardown(() => handle.close());
  t.ok((await migrateToLatest(handle.db)).length > 0, 'every migration applies');
  t.equal((await handle.db.selectFrom('tenants').select('id').execute()).length, 0, 'an empty, working database');
});
