// README "What a crash does": an email whose notifier died in the middle of sending is sent again by
// another notifier once the lease has run out, with the same Message-ID (<attemptId@abuse-desk>), so the
// rare duplicate is recognisable. Two notifiers over one database and a real SMTP server.
import { createConsoleSmsChannel, createSmtpEmailChannel, createConsoleVoiceChannel } from '@abuse-desk/channels';
import type { EmailChannel, OutgoingEmail } from '@abuse-desk/channels';
import { loadConfig } from '@abuse-desk/config';
import { claimDue, listContacts, openOrUpdateTicket, replaceContacts, toSnapshot, upsertTenant } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import { ENGINES, openTestDb, storedRows } from '@abuse-desk/db/testing';
import { TestClock, contactList, startSmtpSink, waitUntil } from '@abuse-desk/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { startNotifier } from './index.js';

const NOW = new Date('2026-11-22T10:15:00.000Z');
const LEASE_SECONDS = 30;
const logger = pino({ level: 'silent' });
const config = loadConfig({ PUBLIC_BASE_URL: 'http://abuse.test', WORK_LEASE_SECONDS: String(LEASE_SECONDS) });

/** A ticket whose walk is emails only: Alice has no phone (follow-up at once), no TAM. */
async function openEmailOnlyTicket(db: Db, tenantId: string) {
  await upsertTenant(db, tenantId, { name: `${tenantId} Mail` }, NOW);
  await replaceContacts(db, tenantId, contactList({ alice: { phone: undefined }, bob: null, tam: null }));
  const contacts = (await listContacts(db, tenantId)).map(toSnapshot);
  const counts = { spam: 60, phish: 0, virus: 0, clean: 40 };
  const { ticket } = await db.transaction().execute((trx) =>
    openOrUpdateTicket(trx, {
      tenantId,
      trip: { rule: 'spam', severity: 'normal', windowSeconds: 600, counts, total: 100, ratio: 0.6, thresholds: { minSpam: 50, minSpamRatio: 0.05 }, suspendAtOnce: false },
      evidence: {
        rule: 'spam',
        windowSeconds: 600,
        windowStart: new Date(NOW.getTime() - 600_000).toISOString(),
        windowEnd: NOW.toISOString(),
        counts,
        total: 100,
        ratio: 0.6,
        thresholds: { minSpam: 50, minSpamRatio: 0.05 },
        topSenders: [{ sender: `billing@${tenantId}.example`, count: 60 }],
      },
      contacts,
      now: NOW,
      resolutionTimeoutSeconds: config.resolutionTimeoutSeconds,
      actor: 'counter',
      destinations: [],
    }),
  );
  return ticket;
}

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    const sink = await startSmtpSink();
    t.teardown(() => sink.close());
    const voice = createConsoleVoiceChannel({ logger, ringSeconds: 30 });
    const sms = createConsoleSmsChannel({ logger });

    t.test('an email whose notifier died mid-send is sent again after its lease, with the same Message-ID', async (t) => {
      const ticket = await openEmailOnlyTicket(db, `resend-${engine}`);
      const emailRows = async () => (await storedRows(db, 'contact_attempts', { ticket_id: ticket.id })).filter((a) => a.channel === 'email');
      const followup = (await emailRows()).find((a) => a.kind === 'followup');
      t.ok(followup, 'the walk starts with a follow-up email to Alice');
      const messageId = `<${followup!.id}@abuse-desk>`;

      // Worker A: the SMTP server accepts its message, then the process "dies" before the row is marked
      // sent — its send never returns while the test runs.
      const smtpA = createSmtpEmailChannel({ url: sink.url, from: 'abuse@desk.example', logger });
      const dying: (() => void)[] = [];
      const emailA: EmailChannel = {
        name: 'smtp',
        async send(email: OutgoingEmail) {
          await smtpA.send(email);
          return new Promise((_resolve, reject) => dying.push(() => reject(new Error('the process died'))));
        },
        close: () => smtpA.close(),
      };
      const a = startNotifier({ db, config, logger, clock: new TestClock(NOW), email: emailA, voice, sms, registry: new Registry(), workerId: 'worker-a', idleMs: 50 });
      t.teardown(async () => {
        for (const die of dying) die();
        await a.stop();
        await smtpA.close();
      });
      await sink.waitFor((m) => m.messageId === messageId);
      t.match((await emailRows()).find((r) => r.id === followup!.id), { status: 'dispatching', locked_by: 'worker-a', tries: 1 }, 'accepted by the server but never marked sent');

      const beforeLease = await claimDue(db, 'contact_attempts', { now: new Date(NOW.getTime() + (LEASE_SECONDS - 1) * 1000), limit: 50, leaseSeconds: LEASE_SECONDS, workerId: 'worker-early' });
      t.notOk(beforeLease.some((r) => r.id === followup!.id), 'nobody takes it over while the lease runs');

      // Worker B, once the lease has run out.
      const smtpB = createSmtpEmailChannel({ url: sink.url, from: 'abuse@desk.example', logger });
      const b = startNotifier({ db, config, logger, clock: new TestClock(new Date(NOW.getTime() + (LEASE_SECONDS + 1) * 1000)), email: smtpB, voice, sms, registry: new Registry(), workerId: 'worker-b', idleMs: 50 });
      t.teardown(async () => {
        await b.stop();
        await smtpB.close();
      });
      const sent = await waitUntil(async () => {
        const r = (await emailRows()).find((x) => x.id === followup!.id);
        return r?.status === 'done' && r;
      }, { message: 'the follow-up marked sent by worker B' });
      t.match(sent, { status: 'done', outcome: 'sent', tries: 2, locked_by: null });

      const copies = await sink.waitFor((m) => m.messageId === messageId, { count: 2 });
      t.equal(copies.length, 2, 'sent twice: once by the dead worker, once after its lease');
      t.same(copies.map((m) => m.messageId), [messageId, messageId], 'both carry <attemptId@abuse-desk>');
      t.same(copies.map((m) => m.envelopeTo), [['alice@tenant.example'], ['alice@tenant.example']], 'to the same person');
      t.equal(copies[1]!.subject, copies[0]!.subject, 'the same message');

      // Every other email of the ticket arrives under its own attempt's Message-ID, whoever sent it.
      const ids = new Set((await emailRows()).map((r) => `<${r.id}@abuse-desk>`));
      t.ok(sink.messages.every((m) => !m.messageId?.endsWith('@abuse-desk>') || ids.has(m.messageId)), 'no Message-ID that is not an attempt of the ticket');
    });
  });
}
