// README (WORK_LEASE_SECONDS): SMTP timeouts are a third of the work lease, so a hung mail server fails a
// send before the lease runs out and another notifier could take the email over. The process is built from
// its configuration as main.ts builds it, against an SMTP server that accepts connections and never speaks.
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { loadConfig } from '@abuse-desk/config';
import { listContacts, openOrUpdateTicket, replaceContacts, toSnapshot, upsertTenant } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import { contactList, waitUntil } from '@abuse-desk/testkit';
import { pino } from 'pino';
import t from 'tap';
import { createRuntime } from './runtime.js';

/** A TCP server that accepts and stays silent; records when each connection opened and when the client gave up. */
async function silentSmtpServer() {
  const connections: { openedAt: number; closedAt: number | null }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const c = { openedAt: Date.now(), closedAt: null as number | null };
    connections.push(c);
    sockets.add(socket);
    socket.on('error', () => {});
    // The client's FIN ('end') is when it gave up; 'close' follows once both sides have ended.
    const gaveUp = () => {
      c.closedAt ??= Date.now();
      sockets.delete(socket);
    };
    socket.on('end', gaveUp);
    socket.on('close', gaveUp);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Opens a ticket whose walk starts with an email (Alice has no phone), due now. */
async function openEmailTicket(db: Db, tenantId: string, now: Date) {
  await upsertTenant(db, tenantId, { name: `${tenantId} Mail` }, now);
  await replaceContacts(db, tenantId, contactList({ alice: { phone: undefined }, bob: null, tam: null }));
  const contacts = (await listContacts(db, tenantId)).map(toSnapshot);
  const counts = { spam: 60, phish: 0, virus: 0, clean: 40 };
  const thresholds = { minSpam: 50, minSpamRatio: 0.05 };
  const { ticket } = await db.transaction().execute((trx) =>
    openOrUpdateTicket(trx, {
      tenantId,
      trip: { rule: 'spam', severity: 'normal', windowSeconds: 600, counts, total: 100, ratio: 0.6, thresholds, suspendAtOnce: false },
      evidence: { rule: 'spam', windowSeconds: 600, windowStart: new Date(now.getTime() - 600_000).toISOString(), windowEnd: now.toISOString(), counts, total: 100, ratio: 0.6, thresholds, topSenders: [] },
      contacts,
      now,
      resolutionTimeoutSeconds: 3600,
      actor: 'counter',
      destinations: [],
    }),
  );
  return ticket;
}

for (const leaseSeconds of [3, 6]) {
  t.test(`with WORK_LEASE_SECONDS=${leaseSeconds} a silent SMTP server fails the send after ${leaseSeconds / 3} s, before the lease runs out`, async (t) => {
    const smtp = await silentSmtpServer();
    t.teardown(() => smtp.close());
    const config = loadConfig({ DATA_DIR: 'memory://', ROLES: 'notifier', LOG_LEVEL: 'silent', WORK_LEASE_SECONDS: String(leaseSeconds), SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    const rt = await createRuntime(config, pino({ level: 'silent' }));
    t.teardown(() => rt.close());
    const db = rt.handle.db;

    const ticket = await openEmailTicket(db, 'hung-mx', new Date());
    const failed = await waitUntil(
      async () => {
        const rows = await db.selectFrom('contact_attempts').selectAll().where('ticket_id', '=', ticket.id).where('kind', '=', 'followup').execute();
        return rows.find((r) => r.last_error !== null);
      },
      { timeoutMs: 20_000, message: 'the follow-up send failing' },
    );
    const first = await waitUntil(() => smtp.connections.find((c) => c.closedAt !== null), { message: 'the client closing its connection' });
    t.equal(smtp.connections.indexOf(first), 0, 'the client connected, then gave up and closed the connection');
    const waitedMs = first!.closedAt! - first!.openedAt;
    const thirdMs = (leaseSeconds * 1000) / 3;
    t.ok(waitedMs >= thirdMs - 100, `it waited its timeout, a third of the lease (${waitedMs} ms ≥ ${thirdMs} ms)`);
    t.ok(waitedMs < leaseSeconds * 1000, `and gave up within the lease of ${leaseSeconds * 1000} ms (${waitedMs} ms)`);
    t.match(failed, { status: 'pending', tries: 1, locked_by: null, completed_at: null }, 'the email waits for its retry, released by the worker that tried it');
    t.match(failed.last_error, /greeting|timeout/i, 'because the server never answered');
    t.ok(failed.updated_at.getTime() < first!.openedAt + leaseSeconds * 1000, 'the failure was recorded while the lease still ran');
  });
}
