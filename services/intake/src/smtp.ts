// The intake's SMTP listener (issue 17): takes complaint reports at any address, from anyone (feedback
// loops do not authenticate), up to a size limit, and answers 250 only once the raw message is committed
// to complaint_reports — a crash after the 250 loses nothing, a crash before it makes the sender retry.
// STARTTLS when a certificate and key are configured; connections bounded in all and per address.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

export interface IntakeSmtpOptions {
  host: string;
  port: number;
  maxBytes: number;
  /** Connections at once, in all (beyond it smtp-server answers 421) and from one address (421 from onConnect). */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  tls: { certFile: string; keyFile: string } | undefined;
  logger: Logger;
  /** Stores the message durably; resolves once committed. */
  store(raw: Buffer, envelope: { from: string | null; remoteAddress: string | null }): Promise<string>;
}

/**
 * Whose connection it is, for the per-address limit: an IPv4 address as it is (also when IPv4-mapped), an
 * IPv6 address by its /64 — one site's hosts share a /64, and a sender could otherwise take a new address
 * for every connection.
 */
export function senderKey(address: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (v4) return v4[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  // An IPv4 tail (::ffff:a.b.c.d handled above; ::a.b.c.d, 64:ff9b::a.b.c.d) takes two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - width(front) - width(back))).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16).toString(16) : g))
    .join(':')}::/64`;
}

/** An SMTP reply with its code, as smtp-server sends an Error's responseCode. */
const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export async function startIntakeSmtp(o: IntakeSmtpOptions): Promise<{ port: number; close(): Promise<void> }> {
  const log = o.logger.child({ component: 'intake.smtp' });
  const tls = o.tls ? { key: readFileSync(o.tls.keyFile), cert: readFileSync(o.tls.certFile) } : {};
  // Each connection may hold up to maxBytes in memory while its message arrives, so the connections are
  // bounded, in all and per address: one sender cannot take every slot (feedback loops use a few at most).
  const perAddress = new Map<string, number>();
  const counted = new Set<string>();
  const server = new SMTPServer({
    ...tls,
    maxClients: o.maxConnections,
    onConnect(session: SMTPServerSession, done: (err?: Error | null) => void) {
      const address = senderKey(session.remoteAddress ?? '');
      const n = perAddress.get(address) ?? 0;
      if (n >= o.maxConnectionsPerAddress) {
        log.warn({ remoteAddress: address, connections: n }, 'intake.smtp.too_many_connections');
        done(smtpError(421, `4.7.0 Too many connections from ${address}, try again later`));
        return;
      }
      perAddress.set(address, n + 1);
      counted.add(session.id);
      done();
    },
    onClose(session: SMTPServerSession) {
      if (!counted.delete(session.id)) return;
      const address = senderKey(session.remoteAddress ?? '');
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    },
    name: 'abuse-desk-intake',
    banner: 'abuse-desk complaint intake',
    size: o.maxBytes,
    authOptional: true,
    disabledCommands: o.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    logger: false,
    // A report may come to any address at this listener (abuse@, fbl@, …): none is refused.
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= o.maxBytes) chunks.push(c);
      });
      stream.on('error', (err) => done(err));
      stream.on('end', () => {
        if (stream.sizeExceeded || size > o.maxBytes) {
          log.warn({ size, maxBytes: o.maxBytes, remoteAddress: session.remoteAddress }, 'intake.smtp.too_big');
          done(smtpError(552, `5.3.4 Message too big: the limit is ${o.maxBytes} bytes`));
          return;
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
        o.store(Buffer.concat(chunks), { from: from || null, remoteAddress: session.remoteAddress ?? null })
          .then((id) => {
            log.info({ reportId: id, size, remoteAddress: session.remoteAddress }, 'intake.smtp.received');
            done(null, `2.0.0 Stored as ${id}`);
          })
          .catch((err: unknown) => {
            // Not stored: a temporary failure, so the sender keeps the report and tries again.
            log.error({ err }, 'intake.smtp.store_failed');
            done(smtpError(451, '4.3.0 Cannot store the report now, try again later'));
          });
      });
    },
  });
  server.on('error', (err) => log.warn({ err }, 'intake.smtp.error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  log.info({ host: o.host, port, starttls: !!o.tls, maxBytes: o.maxBytes, maxConnections: o.maxConnections, maxConnectionsPerAddress: o.maxConnectionsPerAddress }, 'intake.smtp.listening');
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
