// `pnpm migrate`: applies the migrations to DATABASE_URL (or the embedded database) and exits.
import { ConfigError, loadConfig } from '@abuse-desk/config';
import { connect, migrateToLatest } from '@abuse-desk/db';

try {
  const config = loadConfig(process.env);
  const handle = await connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(handle.db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
  } finally {
    await handle.close();
  }
} catch (err) {
  process.stderr.write(`abuse-desk migrate: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
