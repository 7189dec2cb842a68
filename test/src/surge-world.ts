// The world of the surge tests (issue 14): one api/counter/enforcer process and several notifier
// processes over one PostgreSQL database, Twilio through the stand-in, a real SMTP server, and many
// tenants tripping at once through HTTP ingest.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { RecordedRequest, SmtpSink, TwilioStandin } from '@abuse-desk/testkit';
import type { Test } from 'tap';
import { ROOT, client, prepareService, spamBurst } from './harness.js';
import type { Service } from './harness.js';
import { peers } from './twilio-world.js';

export interface SurgeWorld {
  svc: Service;
  standin: TwilioStandin;
  sink: SmtpSink;
  api: ReturnType<typeof client>;
  /** Index of the first notifier process in svc (the api process is 0). */
  firstNotifier: number;
}

export async function surgeWorld(t: Test, name: string, env: Record<string, string>, notifiers: number): Promise<SurgeWorld> {
  const { standin, sink, env: peerEnv } = await peers(t);
  const svc = await prepareService({
    name,
    arrangement: { engine: 'postgres', processes: 'four' },
    roleSets: [['api', 'counter', 'enforcer'], ...Array.from({ length: notifiers }, () => ['notifier'])],
    env: { ...peerEnv, ...env },
  });
  t.teardown(() => svc.stop());
  await svc.start();
  return { svc, standin, sink, api: client(svc.baseUrl), firstNotifier: 1 };
}

/** Creates the tenants with their contact lists. */
export async function addTenants(w: SurgeWorld, ids: string[], contactsOf: (id: string, i: number) => object[]) {
  for (const [i, id] of ids.entries()) {
    const a = await w.api('PUT', `/v1/tenants/${id}`, { name: `Tenant ${id}` });
    const b = await w.api('PUT', `/v1/tenants/${id}/contacts`, contactsOf(id, i));
    if (a.status !== 200 || b.status !== 200) throw new Error(`tenant ${id}: ${a.status} ${b.status} ${JSON.stringify(b.body)}`);
  }
}

/** Every tenant crosses the default policy in one HTTP ingest request; returns the ticket numbers opened. */
export async function tripAll(w: SurgeWorld, ids: string[]): Promise<string[]> {
  const r = await w.api('POST', '/v1/verdicts', ids.flatMap((id) => spamBurst(id)));
  if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.ticketsOpened;
}

/** The Calls.json creates the stand-in accepted, in arrival order. */
export const creates = (standin: TwilioStandin): RecordedRequest[] => standin.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Calls.json') && r.specErrors.length === 0);

/** The most creates that arrived within any window of `ms` (sliding, half-open). */
export function mostWithin(times: Date[], ms = 1000): number {
  const sorted = times.map((d) => d.getTime()).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** How many calls each notifier process logged as placed (from its log file in test-artifacts/logs). */
export function callsPlacedBy(name: string, processes: number[]): number[] {
  const dir = path.join(ROOT, 'test-artifacts', 'logs');
  const files = readdirSync(dir);
  return processes.map((index) =>
    files
      .filter((f) => f.startsWith(`${name}.${index}-`))
      .reduce((n, f) => n + readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.includes('"msg":"call.placed"')).length, 0),
  );
}

export const phone = (base: number, i: number) => `+1415${String(base + i).padStart(7, '0')}`;
