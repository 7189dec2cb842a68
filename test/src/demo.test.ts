// The README's quick-start demo, as written there: the service on its embedded defaults (PGlite, console
// channels) with ADMIN_TOKEN, RESOLUTION_TIMEOUT_SECONDS=20 and CALL_RING_SECONDS=5, and `pnpm demo`'s
// script run against it with the same token. It must follow its ticket to `suspended` and exit 0.
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { ROOT, client, prepareService } from './harness.js';

const DEMO = path.join(ROOT, 'services/main/dist/demo.js');
const TOKEN = 'demo-admin-token-123456';
/** The demo itself gives up after three minutes; the README promises about 35 seconds. */
const BOUND_MS = 150_000;

function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [DEMO], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

t.test('the quick-start demo runs against the service started as the README says, follows its ticket to suspended and exits 0', async (t) => {
  const svc = await prepareService({
    name: 'demo',
    arrangement: { engine: 'pglite', processes: 'one' },
    env: { ADMIN_TOKEN: TOKEN, RESOLUTION_TIMEOUT_SECONDS: '20', CALL_RING_SECONDS: '5' },
  });
  t.teardown(() => svc.stop());
  await svc.start();

  const demo = await runDemo({ PATH: process.env['PATH'] ?? '', ADMIN_TOKEN: TOKEN, PUBLIC_BASE_URL: svc.baseUrl });
  t.comment(`the demo took ${Math.round(demo.ms / 1000)} s`);
  t.equal(demo.code, 0, `the demo exits 0 within ${BOUND_MS / 1000} s (stderr: ${demo.stderr.trim() || 'empty'})`);

  const opened = /^tenant (\S+): (\d+) verdicts counted, tickets opened: (ABU-\d+)$/m.exec(demo.stdout);
  t.comment(demo.stdout.trim());
  t.ok(opened, 'the demo says which ticket its burst opened');
  if (!opened) return;
  const [, tenantId, accepted, ticketNumber] = opened;
  t.equal(Number(accepted), 150, 'all 150 verdicts of the burst were counted');
  t.match(demo.stdout, new RegExp(`^\\[[\\d:]{8}\\] ${ticketNumber}: suspended`, 'm'), 'it printed the ticket once suspended');
  t.match(demo.stdout, new RegExp(`^outbound mail of ${tenantId}: DISABLED since `, 'm'), "it printed that the tenant's outbound mail is disabled");

  const api = client(svc.baseUrl, TOKEN);
  const ticket = await api('GET', `/v1/tickets/${ticketNumber}`);
  t.equal(ticket.status, 200, 'the ticket is found with the admin token');
  t.equal(ticket.body.state, 'suspended', 'the API shows the ticket suspended');
  const outbound = await api('GET', `/v1/tenants/${tenantId}/outbound`);
  t.equal(outbound.body.enabled, false, "the API shows the tenant's outbound mail disabled");
});
