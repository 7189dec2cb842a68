// The console email channel (SPEC §3): used when no SMTP_URL is set. It logs what would be sent and
// reports success, so that attempts are recorded exactly as with a real server. No secret reaches the log
// (issue 15): resolution links are redacted there, and the whole email, links included, is saved as a file
// in `outboxDir` (DATA_DIR/outbox) for whoever runs the service on their machine to open.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { EmailChannel, OutgoingEmail } from '../types.js';

/** Resolution and acknowledgement links carry tokens: `/resolve/<token>` → `/resolve/[redacted]`, likewise `/ack/`. */
export const redactLinks = (text: string) => text.replace(/\/(resolve|ack)\/[^\s/?#"'<>]+/g, '/$1/[redacted]');

export function createConsoleEmailChannel({ logger, outboxDir }: { logger: Logger; outboxDir?: string }): EmailChannel {
  return {
    name: 'console',
    async send(email: OutgoingEmail) {
      let file: string | null = null;
      if (outboxDir) {
        await mkdir(outboxDir, { recursive: true });
        file = path.join(outboxDir, `${email.messageId.replace(/[^A-Za-z0-9@._-]/g, '')}.txt`);
        const headers = `To: ${email.to.join(', ')}\nSubject: ${email.subject}\nMessage-ID: ${email.messageId}\n\n`;
        await writeFile(file, headers + email.text, { mode: 0o600 });
      }
      logger.info({ to: email.to, subject: email.subject, messageId: email.messageId, file, text: redactLinks(email.text) }, 'email.console.sent');
      return { providerRef: `console:${email.messageId}` };
    },
    async close() {},
  };
}
