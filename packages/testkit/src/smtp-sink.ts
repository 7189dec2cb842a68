// A real SMTP server for tests (TESTING.md, SMTP row): accepts every message on 127.0.0.1, parses
// it with mailparser, and lets a test wait for the email a person would read.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = ParsedMail & {
  /** RCPT TO addresses of the SMTP envelope: who the message was delivered to, Bcc included. */
  envelopeTo: string[];
  /** MAIL FROM address of the envelope, when one was given. */
  envelopeFrom: string | null;
  /** When the sink accepted the message. */
  receivedAt: Date;
};

export interface WaitForOptions {
  /** Default 15000. */
  timeoutMs?: number;
  /** How many matching messages to wait for; default 1. */
  count?: number;
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:<port>`, ready for SMTP_URL or nodemailer. */
  url: string;
  port: number;
  /** Every message received so far, in arrival order. */
  messages: ReceivedMail[];
  /** Resolves with the matching messages once at least `count` have arrived. */
  waitFor(pred: (mail: ReceivedMail) => boolean, opts?: WaitForOptions): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

const POLL_MS = 25;

export interface SmtpSinkOptions {
  /** Holds each message this long before accepting it, so that a test can kill a sender mid-transaction. */
  acceptDelayMs?: number;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let received = 0;

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    // Tests may use an SMTP_URL with credentials: accept any over plain TCP.
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    // Nodemailer's plain transport quits after each message; nothing should keep close() waiting.
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'test' });
    },
    onData(stream, session, callback) {
      // Like a real server, a message counts only when its DATA ended with the final dot: a client that
      // dies mid-message leaves a truncated stream, which is discarded, not delivered.
      let complete = false;
      stream.once('end', () => (complete = true));
      stream.on('error', () => {});
      simpleParser(stream)
        .then(async (parsed) => {
          if (!complete || stream.sizeExceeded) throw new Error('the message was not received in full');
          if (opts.acceptDelayMs) await new Promise((resolve) => setTimeout(resolve, opts.acceptDelayMs));
          const { mailFrom, rcptTo } = session.envelope;
          messages.push(Object.assign(parsed, { envelopeTo: rcptTo.map((r) => r.address), envelopeFrom: mailFrom ? mailFrom.address : null, receivedAt: new Date() }));
          received += 1;
          callback(null, `Message queued as sink-${received}`);
        })
        .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    },
  });
  server.on('error', () => {
    // A client dropping its connection is not a test failure; what arrived is what the test checks.
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    async waitFor(pred, opts = {}) {
      const { timeoutMs = 15000, count = 1 } = opts;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = messages.filter(pred);
        if (matching.length >= count) return matching;
        if (Date.now() >= deadline) {
          const subjects = messages.map((m) => JSON.stringify(m.subject ?? '(no subject)'));
          throw new Error(
            `smtp sink: waited ${timeoutMs} ms for ${count} matching message(s), ${matching.length} matched; ` +
              `${messages.length} received: ${subjects.length ? subjects.join(', ') : '(none)'}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
