// The SMTP email channel (SPEC §3 SMTP_URL, EMAIL_FROM): nodemailer behind the EmailChannel interface.
// Failures throw so that the worker retries; the attempt's Message-ID stays the same on every try,
// which lets a recipient's mail system (and a person) recognise a resend after a crash.
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { EmailChannel, OutgoingEmail } from '../types.js';

export interface SmtpEmailChannelOptions {
  /** `smtp://user:pass@host:port` or `smtps://…`. */
  url: string;
  from: string;
  logger: Logger;
  /**
   * Connection, greeting and socket inactivity timeouts (ms). The notifier keeps these below its work
   * lease, so a hung server makes a send fail (and retry) before another worker could take it over.
   */
  timeoutMs?: number;
}

/** nodemailer's transport options from SMTP_URL, plus our timeouts (nodemailer drops extra options given with `url`). */
export function smtpTransportOptions(url: string, timeoutMs: number) {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
}

/** A Message-ID header value is `<id@domain>`; callers hand over the bare id. */
export const messageIdHeader = (messageId: string) => (messageId.startsWith('<') && messageId.endsWith('>') ? messageId : `<${messageId}>`);

export function createSmtpEmailChannel({ url, from, logger, timeoutMs = 10_000 }: SmtpEmailChannelOptions): EmailChannel {
  const transport = nodemailer.createTransport(smtpTransportOptions(url, timeoutMs));
  return {
    name: 'smtp',
    async send(email: OutgoingEmail) {
      const info = await transport.sendMail({
        from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: messageIdHeader(email.messageId),
      });
      const rejected = (info.rejected ?? []).map((a) => (typeof a === 'string' ? a : a.address));
      if (rejected.length > 0) {
        // Some recipients were refused but the others accepted the message: retrying would send it
        // to them twice, so record the refusal and count the send as done.
        logger.warn({ rejected, messageId: email.messageId, response: info.response }, 'email.smtp.partially_rejected');
      }
      const providerRef = info.response || info.messageId;
      logger.info({ to: email.to, messageId: email.messageId, providerRef }, 'email.smtp.sent');
      return { providerRef };
    },
    async close() {
      transport.close();
    },
  };
}
