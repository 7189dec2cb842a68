// The console email channel (SPEC §3): used when no SMTP_URL is set. It logs what would be sent
// and reports success, so that attempts are recorded exactly as with a real server.
import type { Logger } from 'pino';
import type { EmailChannel, OutgoingEmail } from '../types.js';

export function createConsoleEmailChannel({ logger }: { logger: Logger }): EmailChannel {
  return {
    name: 'console',
    async send(email: OutgoingEmail) {
      logger.info({ to: email.to, subject: email.subject, messageId: email.messageId, text: email.text }, 'email.console.sent');
      return { providerRef: `console:${email.messageId}` };
    },
    async close() {},
  };
}
