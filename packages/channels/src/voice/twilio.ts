// The Twilio voice channel (SPEC §8): calls through the official `twilio` client with asynchronous
// answering-machine detection, status callbacks and a ring timeout. `calls.create` has no idempotency key,
// so it is never retried blindly: after a timeout or a 5xx the call is looked up (by To and creation
// time) and only if none is found is the attempt recorded as unknown.
import { outcomeOfEndedCall, isFinalCallStatus } from '@abuse-desk/domain';
import type { CallOutcome } from '@abuse-desk/domain';
import type { Logger } from 'pino';
import twilio from 'twilio';
import type { CallRequest, PlaceCallResult, VoiceChannel } from '../types.js';

const TWILIO_ORIGIN = 'https://api.twilio.com';

/**
 * The twilio client, optionally pointed at another base URL (TWILIO_API_BASE_URL: a regional edge, a
 * gateway, a local test double). twilio-node has no base-URL option, so the request client rewrites the
 * origin of every request.
 */
export function createTwilioClient(o: { accountSid: string; authToken: string; apiBaseUrl?: string | undefined; timeoutMs?: number }) {
  const base = o.apiBaseUrl?.replace(/\/+$/, '');
  class BaseUrlRequestClient extends twilio.RequestClient {
    override request<TData>(opts: Parameters<twilio.RequestClient['request']>[0]) {
      const uri = base && opts.uri.startsWith(TWILIO_ORIGIN) ? base + opts.uri.slice(TWILIO_ORIGIN.length) : opts.uri;
      return super.request<TData>({ ...opts, uri, timeout: o.timeoutMs ?? 10_000 } as never);
    }
  }
  return twilio(o.accountSid, o.authToken, { httpClient: new BaseUrlRequestClient({ timeout: o.timeoutMs ?? 10_000 }) });
}

export type TwilioClient = ReturnType<typeof createTwilioClient>;

export interface TwilioVoiceChannelOptions {
  client: Pick<TwilioClient, 'calls'>;
  fromNumber: string;
  /** PUBLIC_BASE_URL: where Twilio reaches our webhooks. */
  publicBaseUrl: string;
  ringSeconds: number;
  resultTimeoutSeconds: number;
  logger: Logger;
}

/** Why a create failed, and whether Twilio definitely did not place the call (a 4xx answer). */
function describe(err: unknown): { definite: boolean; text: string } {
  const e = err as { status?: number; code?: number; message?: string };
  const definite = typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.status !== 429;
  return { definite, text: `${e.status ? `HTTP ${e.status} ` : ''}${e.code ? `error ${e.code}: ` : ''}${e.message ?? String(err)}` };
}

export function createTwilioVoiceChannel(o: TwilioVoiceChannelOptions): VoiceChannel {
  const hook = (name: string, attemptId: string) => `${o.publicBaseUrl}/webhooks/twilio/${name}?a=${encodeURIComponent(attemptId)}`;
  const log = o.logger.child({ channel: 'twilio' });
  return {
    name: 'twilio',
    async placeCall(call: CallRequest, now: Date): Promise<PlaceCallResult> {
      const resultDueAt = new Date(now.getTime() + o.resultTimeoutSeconds * 1000);
      try {
        const created = await o.client.calls.create({
          to: call.to,
          from: o.fromNumber,
          url: hook('voice', call.attemptId),
          method: 'POST',
          fallbackUrl: hook('fallback', call.attemptId),
          fallbackMethod: 'POST',
          statusCallback: hook('status', call.attemptId),
          statusCallbackMethod: 'POST',
          statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
          timeout: o.ringSeconds,
          timeLimit: 300,
          machineDetection: 'DetectMessageEnd',
          asyncAmd: 'true',
          asyncAmdStatusCallback: hook('amd', call.attemptId),
          asyncAmdStatusCallbackMethod: 'POST',
        });
        return { status: 'placed', providerRef: created.sid, resultDueAt };
      } catch (err) {
        const { definite, text } = describe(err);
        if (definite) return { status: 'failed', error: text };
        // Twilio may have placed the call before the timeout or the 5xx: look before deciding.
        log.warn({ err, attemptId: call.attemptId }, 'voice.twilio.create_uncertain');
        try {
          const since = now.getTime() - 120_000;
          const calls = await o.client.calls.list({ to: call.to, limit: 20 });
          const match = calls.find((c) => c.from === o.fromNumber && new Date(c.dateCreated).getTime() >= since);
          if (match) {
            log.info({ attemptId: call.attemptId, callSid: match.sid }, 'voice.twilio.create_reconciled');
            return { status: 'placed', providerRef: match.sid, resultDueAt };
          }
        } catch (lookupErr) {
          log.warn({ err: lookupErr, attemptId: call.attemptId }, 'voice.twilio.lookup_failed');
        }
        return { status: 'unknown', error: text };
      }
    },
    async overdueOutcome(providerRef: string): Promise<CallOutcome> {
      const c = await o.client.calls(providerRef).fetch();
      if (isFinalCallStatus(c.status)) return outcomeOfEndedCall(c.status, c.answeredBy ?? null);
      // No final status in time: end the call so it stops costing and ringing, and call it lost.
      await this.endCall(providerRef).catch((err: unknown) => log.warn({ err, providerRef }, 'voice.twilio.end_failed'));
      return 'lost';
    },
    async endCall(providerRef: string) {
      const c = await o.client.calls(providerRef).fetch();
      if (isFinalCallStatus(c.status)) return;
      await o.client.calls(providerRef).update({ status: c.status === 'in-progress' ? 'completed' : 'canceled' });
    },
    async playAndHangUp(providerRef: string, text: string) {
      const twiml = new twilio.twiml.VoiceResponse();
      twiml.pause({ length: 1 });
      twiml.say({ language: 'en-US' }, text);
      twiml.say({ language: 'en-US' }, text);
      twiml.hangup();
      await o.client.calls(providerRef).update({ twiml: twiml.toString() });
    },
  };
}
