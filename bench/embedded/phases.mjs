// bench/embedded/phases.mjs MODE DATA_DIR: where one start's time and memory go, printed as JSON — each phase's
// end (ms since the process began), its CPU time and the RSS after it. Run by bench/embedded/run.mjs in a
// fresh process per start.
//   open    what the entry does before it serves: import every role's modules, open the embedded database
//           (a fresh DATA_DIR is copied from the build's template), apply the migrations
//   initdb  PGlite's own first start with its default options (initdb, 128 MB shared_buffers): what a fresh
//           DATA_DIR cost before the template and the smaller buffer pool
import { readFileSync } from 'node:fs';

const [mode, dataDir] = process.argv.slice(2);
const steps = [];
const step = (phase) => {
  const cpu = process.cpuUsage();
  const rssBytes = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  steps.push({ phase, ms: Math.round(performance.now()), cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssBytes });
};

step('node');
if (mode === 'initdb') {
  const { PGlite } = await import('../../packages/db/node_modules/@electric-sql/pglite/dist/index.js');
  step('import PGlite');
  const pglite = await PGlite.create(dataDir);
  step('PGlite initdb + open');
  await pglite.close();
} else {
  const { useBaselineWasmCompiler } = await import('../../services/main/dist/runtime.js');
  useBaselineWasmCompiler(); // as createRuntime does on the embedded database
  const { connect, migrateToLatest, ping } = await import('../../packages/db/dist/index.js');
  step('import all roles');
  const handle = await connect({ dataDir });
  step('open PGlite');
  await migrateToLatest(handle.db);
  await ping(handle.db);
  step('migrations');
  await handle.close();
}
process.stdout.write(JSON.stringify(steps));
process.exit(0);
