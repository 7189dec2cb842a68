// Build step (`pnpm build`): initialises the embedded database once per PGlite version, so that a first
// start on a fresh DATA_DIR copies it instead of running initdb (see preparePgliteTemplate).
import { preparePgliteTemplate } from '@abuse-desk/db';

const started = performance.now();
if (await preparePgliteTemplate()) {
  process.stdout.write(`abuse-desk: initialised the embedded database template (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
