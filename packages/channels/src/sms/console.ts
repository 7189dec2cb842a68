// The console SMS channel: used when no Twilio credentials are set. It logs the SMS; nobody can reply
// to a log line, so a walk SMS ends without a reply after the policy's window.
import type { Logger } from 'pino';
import type { OutgoingSms, SendSmsResult, SmsChannel } from '../types.js';

export function createConsoleSmsChannel({ logger }: { logger: Logger }): SmsChannel {
  return {
    name: 'console',
    async send(sms: OutgoingSms): Promise<SendSmsResult> {
      logger.info({ to: sms.to, attemptId: sms.attemptId, body: sms.body }, 'sms.console.sent');
      return { status: 'sent', providerRef: `console:${sms.attemptId}` };
    },
  };
}
