// The Twilio SMS channel (issue 16): Messages API through the official `twilio` client, from
// TWILIO_MESSAGING_SERVICE_SID when set (Twilio picks the sender, handles STOP/START) or else
// TWILIO_FROM_NUMBER, with a status callback per message. Like calls.create, messages.create has no
// idempotency key: after a timeout or a 5xx the message is looked up (by To, body and creation time)
// and only if none is found is the attempt recorded as unknown — never sent a second time.
import type { Logger } from 'pino';
import type { OutgoingSms, SendSmsResult, SmsChannel } from '../types.js';
import type { TwilioClient } from '../voice/twilio.js';

/** Twilio's error code for a recipient who replied STOP: nothing is sent until they reply START. */
const OPTED_OUT = 21610;

export interface TwilioSmsChannelOptions {
  client: Pick<TwilioClient, 'messages'>;
  /** TWILIO_MESSAGING_SERVICE_SID, else the number below sends. */
  messagingServiceSid?: string | undefined;
  fromNumber: string;
  /** PUBLIC_BASE_URL: where Twilio reaches our webhooks. */
  publicBaseUrl: string;
  logger: Logger;
}

export function createTwilioSmsChannel(o: TwilioSmsChannelOptions): SmsChannel {
  const log = o.logger.child({ channel: 'twilio-sms' });
  const sender = o.messagingServiceSid ? { messagingServiceSid: o.messagingServiceSid } : { from: o.fromNumber };
  return {
    name: 'twilio',
    async send(sms: OutgoingSms, now: Date): Promise<SendSmsResult> {
      try {
        const m = await o.client.messages.create({
          to: sms.to,
          ...sender,
          body: sms.body,
          statusCallback: `${o.publicBaseUrl}/webhooks/twilio/sms-status?a=${encodeURIComponent(sms.attemptId)}`,
        });
        return { status: 'sent', providerRef: m.sid };
      } catch (err) {
        const e = err as { status?: number; code?: number; message?: string };
        const text = `${e.status ? `HTTP ${e.status} ` : ''}${e.code ? `error ${e.code}: ` : ''}${e.message ?? String(err)}`;
        if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.status !== 429) return { status: 'failed', error: text, optedOut: e.code === OPTED_OUT };
        log.warn({ err, attemptId: sms.attemptId }, 'sms.twilio.create_uncertain');
        try {
          const since = now.getTime() - 120_000;
          const sent = await o.client.messages.list({ to: sms.to, limit: 20 });
          const match = sent.find((m) => m.body === sms.body && new Date(m.dateCreated).getTime() >= since);
          if (match) {
            log.info({ attemptId: sms.attemptId, messageSid: match.sid }, 'sms.twilio.create_reconciled');
            return { status: 'sent', providerRef: match.sid };
          }
        } catch (lookupErr) {
          log.warn({ err: lookupErr, attemptId: sms.attemptId }, 'sms.twilio.lookup_failed');
        }
        return { status: 'unknown', error: text };
      }
    },
  };
}
