// The outcomes a notifier records on a claimed attempt (attempts.ts): an email that fails is retried with
// the one backoff and given up after MAX_EMAIL_TRIES; sent and placed are recorded only on an attempt
// being dispatched, so a late or repeated write changes nothing.
import t from 'tap';
import { EMAIL_BACKOFF, MAX_EMAIL_TRIES, markCallPlaced, markEmailFailed, markEmailSent } from './attempts.js';
import { backoffMs, claimDue } from './claim.js';
import type { Db } from './connect.js';
import { ENGINES, claimAllCalls, openTestDb, storedRows } from './testing.js';
import { NOW, attempt, attemptsOf, openTicketFor } from './tickets.fixtures.js';

const LEASE_SECONDS = 30;
const secondsAfter = (at: Date, s: number) => new Date(at.getTime() + s * 1000);
const claimAt = (db: Db, now: Date, workerId = 'worker-a') => claimDue(db, 'contact_attempts', { now, limit: 50, leaseSeconds: LEASE_SECONDS, workerId });
const row = async (db: Db, id: string) => (await storedRows(db, 'contact_attempts', { id }))[0]!;

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    /** A fresh ticket's TAM briefing (an email) and first call, both due at NOW. */
    const ticketWithAttempts = async (tenantId: string) => {
      const { ticket } = await openTicketFor(db, tenantId, NOW);
      const rows = await attemptsOf(db, ticket.id);
      return { ticket, email: attempt(rows, 'Tara TAM', 'tam_briefing'), call: attempt(rows, 'Alice Admin', 'call') };
    };

    t.test('a failing email is retried with growing backoff and given up after MAX_EMAIL_TRIES as failed', async (t) => {
      const { email } = await ticketWithAttempts('email-retry');
      let now = NOW;
      for (let tries = 1; tries <= MAX_EMAIL_TRIES; tries++) {
        const claimed = (await claimAt(db, now)).find((a) => a.id === email.id);
        t.match(claimed, { status: 'dispatching', tries }, `try ${tries} is claimed once due`);
        const next = await markEmailFailed(db, email.id, claimed!.tries, `421 try ${tries}`, now);
        const stored = await row(db, email.id);
        if (tries < MAX_EMAIL_TRIES) {
          t.equal(next, 'retry');
          t.match(stored, { status: 'pending', outcome: null, last_error: `421 try ${tries}`, locked_by: null, locked_until: null, completed_at: null });
          const delay = stored.due_at.getTime() - now.getTime();
          t.ok(delay >= backoffMs(tries, EMAIL_BACKOFF, 0) && delay <= backoffMs(tries, EMAIL_BACKOFF, 1), `try ${tries}: due again after the backoff (${delay} ms)`);
          t.notOk((await claimAt(db, new Date(stored.due_at.getTime() - 1), 'worker-b')).some((a) => a.id === email.id), `try ${tries}: not claimed before it is due`);
          now = stored.due_at;
        } else {
          t.equal(next, 'failed', `given up after ${MAX_EMAIL_TRIES} tries`);
          t.match(stored, { status: 'failed', outcome: 'failed', last_error: `421 try ${tries}`, completed_at: now, locked_by: null, locked_until: null, tries: MAX_EMAIL_TRIES });
        }
      }
      const delays = [1, 2, 3, 8, 9].map((n) => backoffMs(n, EMAIL_BACKOFF, 0.5));
      t.same(delays, [4000, 8000, 16000, 512_000, 600_000], 'the waits double from four seconds up to ten minutes');
      t.notOk((await claimAt(db, secondsAfter(now, 86_400))).some((a) => a.id === email.id), 'a failed email is never claimed again');
    });

    t.test('markEmailFailed changes nothing on an attempt that is not being dispatched', async (t) => {
      const { email } = await ticketWithAttempts('email-failed-late');
      const before = await row(db, email.id);
      await markEmailFailed(db, email.id, 1, 'late', NOW);
      t.same(await row(db, email.id), before, 'a pending attempt stays as it was');
      await claimAt(db, NOW);
      await markEmailSent(db, email.id, '250 queued as A1', NOW);
      await markEmailFailed(db, email.id, 1, 'late failure', secondsAfter(NOW, 1));
      t.match(await row(db, email.id), { status: 'done', outcome: 'sent', last_error: null }, 'a sent email stays sent');
    });

    t.test('an email is marked sent only while it is being dispatched, and only once', async (t) => {
      const { email } = await ticketWithAttempts('email-sent');
      await markEmailSent(db, email.id, '250 too early', NOW);
      t.match(await row(db, email.id), { status: 'pending', outcome: null, provider_ref: null }, 'not before it is claimed');

      await claimAt(db, NOW);
      const sentAt = secondsAfter(NOW, 2);
      await markEmailSent(db, email.id, '250 queued as A1', sentAt);
      t.match(await row(db, email.id), { status: 'done', outcome: 'sent', provider_ref: '250 queued as A1', completed_at: sentAt, locked_by: null, locked_until: null });
      await markEmailSent(db, email.id, '250 queued as A2', secondsAfter(NOW, 3));
      t.match(await row(db, email.id), { provider_ref: '250 queued as A1', completed_at: sentAt }, 'a second report changes nothing');
      t.notOk((await claimAt(db, secondsAfter(NOW, 3600))).some((a) => a.id === email.id), 'a sent email is never claimed again');
    });

    t.test('a call is marked placed only while it is being dispatched; its result is looked up when overdue', async (t) => {
      const { call } = await ticketWithAttempts('call-placed');
      const resultDueAt = secondsAfter(NOW, 300);
      await markCallPlaced(db, call.id, 'CAearly', resultDueAt, NOW);
      t.match(await row(db, call.id), { status: 'pending', provider_ref: null }, 'not before it is claimed');

      const claimed = (await claimAllCalls(db, { now: NOW, leaseSeconds: LEASE_SECONDS, workerId: 'worker-a' })).find((a) => a.id === call.id);
      t.match(claimed, { status: 'dispatching', locked_by: 'worker-a' });
      await markCallPlaced(db, call.id, 'CA0001', resultDueAt, secondsAfter(NOW, 1));
      t.match(await row(db, call.id), { status: 'placed', provider_ref: 'CA0001', due_at: resultDueAt, locked_by: null, locked_until: null, completed_at: null });
      await markCallPlaced(db, call.id, 'CA0002', secondsAfter(NOW, 900), secondsAfter(NOW, 2));
      t.match(await row(db, call.id), { provider_ref: 'CA0001', due_at: resultDueAt }, 'a second report changes nothing');

      t.notOk((await claimAt(db, secondsAfter(resultDueAt, -1))).some((a) => a.id === call.id), 'a placed call waits for its result');
      const overdue = (await claimAt(db, resultDueAt, 'worker-b')).find((a) => a.id === call.id);
      t.match(overdue, { status: 'placed', previous_status: 'placed', provider_ref: 'CA0001', locked_by: 'worker-b' }, 'no result by then: claimed to be looked up, still placed');
    });
  });
}
