// A service with Twilio through the local stand-in, an SMTP sink and a tenant whose ticket is open: the
// world of the Twilio end-to-end tests.
import { ALICE as KIT_ALICE, BOB as KIT_BOB, TAM, signedPost, startSmtpSink, startTwilioStandin, waitUntil } from '@abuse-desk/testkit';
import type { SmtpSink, TwilioStandin } from '@abuse-desk/testkit';
import type { Test } from 'tap';
import { client, prepareService, recordSecret, spamBurst } from './harness.js';
import type { Arrangement, Service } from './harness.js';

export const FROM = '+15005550006';
/** The testkit's contacts, with the phone and email these tests dial and read. */
const reachable = (c: typeof KIT_ALICE) => ({ ...c, phone: c.phone!, email: c.email! });
export const ALICE = reachable(KIT_ALICE);
export const BOB = reachable(KIT_BOB);
export const TAM_EMAIL = TAM;
export const TAM_PHONE = { name: 'Tom TAM', phone: '+14155550109', email: 'tom@platform.example', role: 'tam', preferredChannel: 'phone' };

export interface World {
  svc: Service;
  standin: TwilioStandin;
  sink: SmtpSink;
  api: ReturnType<typeof client>;
  number: string;
  /** The Twilio call placed to a number (waits for it). */
  callTo(phone: string, nth?: number): Promise<{ sid: string; attemptId: string; params: Record<string, string | string[]> }>;
  /** Posts a signed callback of `kind` for an attempt. */
  callback(kind: string, attemptId: string, params: Record<string, string>, query?: string): Promise<{ status: number; body: string; contentType: string | null }>;
  ticket(): Promise<any>;
}

/** A Twilio stand-in and an SMTP sink for a test, and the service environment that uses them. */
export async function peers(t: Test): Promise<{ standin: TwilioStandin; sink: SmtpSink; env: Record<string, string> }> {
  const standin = await startTwilioStandin();
  t.teardown(() => standin.close());
  recordSecret(standin.authToken);
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const env = {
    SMTP_URL: sink.url,
    TWILIO_ACCOUNT_SID: standin.accountSid,
    TWILIO_AUTH_TOKEN: standin.authToken,
    TWILIO_FROM_NUMBER: FROM,
    TWILIO_API_BASE_URL: standin.baseUrl,
    CALL_RING_SECONDS: '30',
    RESOLUTION_TIMEOUT_SECONDS: '3600',
    WORK_LEASE_SECONDS: '3',
  };
  return { standin, sink, env };
}

export async function world(
  t: Test,
  name: string,
  contacts: object[],
  env: Record<string, string> = {},
  arrangement: Arrangement = { engine: 'postgres', processes: 'one' },
  beforeTrip?: (standin: TwilioStandin, api: ReturnType<typeof client>, tenant: string) => void | Promise<void>,
): Promise<World> {
  const { standin, sink, env: peerEnv } = await peers(t);
  const svc = await prepareService({ name, arrangement, env: { ...peerEnv, ...env } });
  t.teardown(() => svc.stop());
  await svc.start();
  const api = client(svc.baseUrl);
  const tenant = name.replace(/[^a-z0-9]/gi, '').toLowerCase();
  await api('PUT', `/v1/tenants/${tenant}`, { name: `Tenant ${tenant}` });
  t.equal((await api('PUT', `/v1/tenants/${tenant}/contacts`, contacts)).status, 200);
  await beforeTrip?.(standin, api, tenant);
  const number: string = (await api('POST', '/v1/verdicts', spamBurst(tenant))).body.ticketsOpened[0];
  return {
    svc,
    standin,
    sink,
    api,
    number,
    callTo: async (phone, nth = 1) => {
      const call = await waitUntil(() => [...standin.calls.values()].filter((c) => c.to === phone)[nth - 1], { message: `no call #${nth} to ${phone}` });
      const url = new URL(String(call.params['Url']));
      return { sid: call.sid, attemptId: url.searchParams.get('a')!, params: call.params };
    },
    callback: (kind, attemptId, params, query = '') => signedPost(`${svc.baseUrl}/webhooks/twilio/${kind}?a=${attemptId}${query}`, params, standin.authToken),
    ticket: async () => (await api('GET', `/v1/tickets/${number}`)).body,
  };
}

export const attemptOf = (ticket: any, id: string) => ticket.attempts.find((a: any) => a.id === id);
