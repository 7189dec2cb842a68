// Digests for contacts shared by several tenants (digests.ts, issue 14): claimed attempts to a shared
// address are held on the one digest collecting for it; a digest goes out at most once per period and
// never while another of its address is being sent; a refused one is retried with the next; a call
// digest hands its oldest call to the call queue and ends the others as digested.
import type { Contact } from '@abuse-desk/contracts';
import { contactList } from '@abuse-desk/testkit';
import t from 'tap';
import { EMAIL_BACKOFF, MAX_EMAIL_TRIES, markCallPlaced } from './attempts.js';
import { backoffMs, claimDue } from './claim.js';
import { claimDueDigests, digestCallSummary, digestItems, holdForDigest, isSharedAddress, markDigestFailed, markDigestSent, queueDigestCall } from './digests.js';
import { reserveNumber } from './pacing.js';
import type { ContactAttempt } from './schema.js';
import { replaceContacts, upsertTenant } from './tenants.js';
import { ENGINES, claimAllCalls, openTestDb, storedRows } from './testing.js';
import { NOW, command, minutesAfter, openTicketFor } from './tickets.fixtures.js';

const LEASE_SECONDS = 30;
/** DIGEST_MINUTES of 5. */
const PERIOD = 300;
const secondsAfter = (at: Date, s: number) => new Date(at.getTime() + s * 1000);

/** A TAM shared by several tenants who is briefed by email. */
const emailTam = (email: string): Partial<Contact> => ({ email });
/** A TAM shared by several tenants who is reached by phone only (a TAM call, no briefing). */
const phoneTam = (phone: string): Partial<Contact> => ({ phone, email: undefined, preferredChannel: 'phone' });

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    const row = async (id: string) => (await storedRows(db, 'contact_attempts', { id }))[0]!;
    const digest = async (id: string) => (await storedRows(db, 'digests', { id }))[0]!;
    const digestsOf = (address: string, status: string) => storedRows(db, 'digests', { address, status }, 'created_at');
    const claimDigests = (now: Date, workerId = 'worker-a') => claimDueDigests(db, { now, limit: 10, leaseSeconds: LEASE_SECONDS, workerId, periodSeconds: PERIOD });
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

    /**
     * Opens a ticket for each tenant (a minute apart, the last at `lastAt`), all with the same TAM, and claims
     * the TAM's attempts as a notifier would; returns them in the tenants' order (the oldest first).
     */
    const claimedTamAttempts = async (tenants: string[], tam: Partial<Contact>, lastAt = NOW): Promise<ContactAttempt[]> => {
      const ticketIds: string[] = [];
      for (const [i, tenantId] of tenants.entries()) {
        const { ticket } = await openTicketFor(db, tenantId, minutesAfter(lastAt, i - tenants.length + 1), contactList({ bob: null, tam }));
        ticketIds.push(ticket.id);
      }
      const address = tam.email ?? tam.phone!;
      const lease = { now: lastAt, leaseSeconds: LEASE_SECONDS, workerId: 'worker-a' };
      const claimed = tam.email ? await claimDue(db, 'contact_attempts', { ...lease, limit: 50 }) : await claimAllCalls(db, lease);
      return ticketIds.map((id) => {
        const a = claimed.find((c) => c.ticket_id === id && c.address === address);
        if (!a) throw new Error(`no claimed attempt to ${address} on ticket ${id}`);
        return a;
      });
    };

    // Digests are claimed from the whole table: each test starts from none.
    t.beforeEach(async () => {
      await db.deleteFrom('contact_attempts').execute();
      await db.deleteFrom('digests').execute();
    });

    t.test("an address on two tenants' contact lists is shared; on one tenant's list, even twice, it is not", async (t) => {
      for (const tenantId of ['shared-a', 'shared-b']) {
        await upsertTenant(db, tenantId, { name: `${tenantId} Mail` }, NOW);
        await replaceContacts(db, tenantId, [{ name: 'Sam MSP', email: 'sam@msp.example', phone: '+14155556001', role: 'tam' }]);
      }
      await upsertTenant(db, 'own', { name: 'own Mail' }, NOW);
      await replaceContacts(db, 'own', [
        { name: 'Olga Owner', email: 'olga@own.example', phone: '+14155556002', role: 'contact' },
        { name: 'Olga as TAM', email: 'olga@own.example', phone: '+14155556002', role: 'tam' },
      ]);
      t.equal(await isSharedAddress(db, 'email', 'sam@msp.example'), true);
      t.equal(await isSharedAddress(db, 'voice', '+14155556001'), true);
      t.equal(await isSharedAddress(db, 'email', 'olga@own.example'), false);
      t.equal(await isSharedAddress(db, 'voice', '+14155556002'), false);
      t.equal(await isSharedAddress(db, 'voice', 'sam@msp.example'), false, 'a call looks among numbers, not emails');
      t.equal(await isSharedAddress(db, 'email', 'nobody@msp.example'), false);
    });

    t.test('claimed attempts to one address are held on the same pending digest, their lease cleared', async (t) => {
      const [first, second] = await claimedTamAttempts(['hold-1', 'hold-2'], emailTam('hold@msp.example'));
      const digestId = await holdForDigest(db, second!, NOW);
      t.ok(digestId, 'held');
      t.equal(await holdForDigest(db, first!, secondsAfter(NOW, 1)), digestId, 'the second joins the same digest');
      for (const a of [first!, second!]) t.match(await row(a.id), { status: 'held', digest_id: digestId, locked_by: null, locked_until: null });
      t.same(
        (await storedRows(db, 'digests', { address: 'hold@msp.example' })).map((d) => [d.id, d.channel, d.status, d.due_at]),
        [[digestId, 'email', 'pending', NOW]],
        'one digest, due at once',
      );
    });

    t.test('an attempt that is not being dispatched is not held', async (t) => {
      const [claimed] = await claimedTamAttempts(['not-held-1'], emailTam('not-held@msp.example'));
      const digestId = await holdForDigest(db, claimed!, NOW);
      t.equal(await holdForDigest(db, claimed!, secondsAfter(NOW, 1)), null, 'an attempt already held is not held again');
      t.match(await row(claimed!.id), { status: 'held', digest_id: digestId });

      const { ticket } = await openTicketFor(db, 'not-held-2', NOW, contactList({ bob: null, tam: emailTam('not-held@msp.example') }));
      const [pending] = await storedRows(db, 'contact_attempts', { ticket_id: ticket.id, kind: 'tam_briefing' });
      t.equal(await holdForDigest(db, pending!, secondsAfter(NOW, 2)), null, 'a pending attempt (not claimed) is not held');
      t.match(await row(pending!.id), { status: 'pending', digest_id: null });
    });

    t.test('a due digest is claimed as dispatching, and lists its attempts oldest first', async (t) => {
      const [first, second] = await claimedTamAttempts(['items-1', 'items-2'], emailTam('items@msp.example'));
      // Held newest first: the list follows the attempts' age, not the order they were held in.
      await holdForDigest(db, second!, NOW);
      const digestId = await holdForDigest(db, first!, NOW);
      const claimed = await claimDigests(NOW);
      t.same(claimed.map((d) => [d.id, d.previous_status, d.status, d.locked_by, d.locked_until, d.tries]), [[digestId, 'pending', 'dispatching', 'worker-a', secondsAfter(NOW, LEASE_SECONDS), 1]]);
      t.match(await digest(digestId!), { status: 'dispatching', locked_by: 'worker-a' });
      t.same(ids(await digestItems(db, digestId!)), [first!.id, second!.id]);
      t.same(await claimDigests(NOW, 'worker-b'), [], 'a claimed digest is not claimed by another worker');
    });

    t.test('an attempt held after its digest was claimed goes into a new pending digest', async (t) => {
      const [first, second] = await claimedTamAttempts(['late-1', 'late-2'], emailTam('late@msp.example'));
      const sending = await holdForDigest(db, first!, NOW);
      t.same(ids(await claimDigests(NOW)), [sending]);
      const next = await holdForDigest(db, second!, secondsAfter(NOW, 1));
      t.ok(next);
      t.not(next, sending, 'not the digest being sent');
      t.match(await digest(next!), { status: 'pending', address: 'late@msp.example' });
      t.same(ids(await digestItems(db, sending!)), [first!.id], 'what is being sent is unchanged');
      t.same(ids(await digestItems(db, next!)), [second!.id]);
    });

    t.test('a sent digest ends its attempts as sent; the next one of its address is claimed only once the period is over', async (t) => {
      const [first, second] = await claimedTamAttempts(['period-1', 'period-2'], emailTam('period@msp.example'));
      const sending = await holdForDigest(db, first!, NOW);
      const [claimed] = await claimDigests(NOW);
      const next = await holdForDigest(db, second!, secondsAfter(NOW, 1));
      const sentAt = secondsAfter(NOW, 5);
      await markDigestSent(db, claimed!, '250 queued as D1', 1, sentAt);
      t.match(await row(first!.id), { status: 'done', outcome: 'sent', provider_ref: '250 queued as D1', completed_at: sentAt, digest_id: sending });
      t.match(await digest(sending!), { status: 'done', sent_at: sentAt, items: 1, provider_ref: '250 queued as D1', locked_by: null, locked_until: null });
      t.match(await row(second!.id), { status: 'held', digest_id: next }, 'the attempt held meanwhile waits for the next digest');

      t.same(await claimDigests(secondsAfter(sentAt, PERIOD - 1)), [], 'not within the period after the last one was sent');
      t.same(ids(await claimDigests(secondsAfter(sentAt, PERIOD))), [next], 'claimed once the period is over');
    });

    t.test('while a digest is being sent, the next one of its address is not claimed; other addresses are', async (t) => {
      const [first, second] = await claimedTamAttempts(['busy-1', 'busy-2'], emailTam('busy@msp.example'));
      const [other] = await claimedTamAttempts(['busy-other'], emailTam('other@msp.example'));
      await holdForDigest(db, first!, NOW);
      t.equal((await claimDigests(NOW)).length, 1);
      const next = await holdForDigest(db, second!, NOW);
      const otherDigest = await holdForDigest(db, other!, NOW);
      t.same(ids(await claimDigests(secondsAfter(NOW, 10), 'worker-b')), [otherDigest]);
      t.match(await digest(next!), { status: 'pending', locked_by: null });
    });

    t.test('a dispatching digest whose lease ran out is claimed again, marked as such; the next one still waits', async (t) => {
      const [first, second] = await claimedTamAttempts(['crash-1', 'crash-2'], emailTam('crash@msp.example'));
      const sending = await holdForDigest(db, first!, NOW);
      await claimDigests(NOW);
      const next = await holdForDigest(db, second!, NOW);
      t.same(await claimDigests(secondsAfter(NOW, LEASE_SECONDS - 1), 'worker-b'), [], 'not while the lease runs');
      const later = secondsAfter(NOW, LEASE_SECONDS + 1);
      const again = await claimDigests(later, 'worker-b');
      t.same(again.map((d) => [d.id, d.previous_status, d.status, d.locked_by, d.tries]), [[sending, 'dispatching', 'dispatching', 'worker-b', 2]]);
      t.match(await digest(next!), { status: 'pending' });
      t.same(ids(await digestItems(db, sending!)), [first!.id], 'it still carries its attempt');
    });

    t.test('a refused digest ends failed; its attempts stay held on a new digest due after the backoff', async (t) => {
      const [first, second] = await claimedTamAttempts(['refused-1', 'refused-2'], emailTam('refused@msp.example'));
      const refused = await holdForDigest(db, first!, NOW);
      await holdForDigest(db, second!, NOW);
      const [claimed] = await claimDigests(NOW);
      t.equal(await markDigestFailed(db, claimed!, '421 try again later', NOW), 'retry');
      t.match(await digest(refused!), { status: 'failed', last_error: '421 try again later', locked_by: null, locked_until: null, sent_at: null });

      const [next, ...more] = await digestsOf('refused@msp.example', 'pending');
      t.same(more, [], 'one digest collects');
      t.not(next!.id, refused);
      const delay = next!.due_at.getTime() - NOW.getTime();
      t.ok(delay >= backoffMs(1, EMAIL_BACKOFF, 0) && delay <= backoffMs(1, EMAIL_BACKOFF, 1), `due after the backoff (${delay} ms)`);
      t.equal(next!.tries, 1, 'the tries carry over');
      for (const a of [first!, second!]) t.match(await row(a.id), { status: 'held', digest_id: next!.id, last_error: '421 try again later', completed_at: null });

      t.same(await claimDigests(new Date(next!.due_at.getTime() - 1)), [], 'not before the backoff');
      const [retried] = await claimDigests(next!.due_at);
      t.match(retried, { id: next!.id, tries: 2 });
      t.same(ids(await digestItems(db, next!.id)), [first!.id, second!.id]);
    });

    t.test("a refused digest's attempts join the digest already collecting, which waits for the backoff", async (t) => {
      const [first, second] = await claimedTamAttempts(['join-1', 'join-2'], emailTam('join@msp.example'));
      await holdForDigest(db, first!, NOW);
      const [claimed] = await claimDigests(NOW);
      const collecting = await holdForDigest(db, second!, NOW);
      const failedAt = secondsAfter(NOW, 2);
      await markDigestFailed(db, claimed!, '451 local error', failedAt);
      const pending = await digestsOf('join@msp.example', 'pending');
      t.same(ids(pending), [collecting], 'no second digest is made');
      t.ok(pending[0]!.due_at.getTime() >= failedAt.getTime() + backoffMs(1, EMAIL_BACKOFF, 0), 'its due time moved to after the backoff');
      t.same(ids(await digestItems(db, collecting!)), [first!.id, second!.id]);
    });

    t.test(`a digest refused ${MAX_EMAIL_TRIES} times ends failed with its attempts`, async (t) => {
      const [held] = await claimedTamAttempts(['give-up-1'], emailTam('give-up@msp.example'));
      await holdForDigest(db, held!, NOW);
      let now = NOW;
      let [claimed] = await claimDigests(now);
      for (let tries = 1; tries < MAX_EMAIL_TRIES; tries++) {
        t.equal(claimed?.tries, tries, `try ${tries}`);
        t.equal(await markDigestFailed(db, claimed!, `421 try ${tries}`, now), 'retry');
        now = (await digestsOf('give-up@msp.example', 'pending'))[0]!.due_at;
        [claimed] = await claimDigests(now);
      }
      t.equal(claimed?.tries, MAX_EMAIL_TRIES);
      t.equal(await markDigestFailed(db, claimed!, `421 try ${MAX_EMAIL_TRIES}`, now), 'failed');
      t.match(await row(held!.id), { status: 'failed', outcome: 'failed', last_error: `421 try ${MAX_EMAIL_TRIES}`, completed_at: now, digest_id: claimed!.id });
      t.match(await digest(claimed!.id), { status: 'failed', last_error: `421 try ${MAX_EMAIL_TRIES}` });
      t.same(await digestsOf('give-up@msp.example', 'pending'), [], 'no digest collects the attempt again');
      t.same(await claimDigests(secondsAfter(now, 86_400)), []);
    });

    t.test('a call digest queues its oldest call as the carrier and ends the others as digested', async (t) => {
      const calls = await claimedTamAttempts(['dcall-1', 'dcall-2', 'dcall-3'], phoneTam('+14155557001'));
      for (const c of [...calls].reverse()) await holdForDigest(db, c, NOW);
      const [claimed] = await claimDigests(NOW);
      const at = secondsAfter(NOW, 1);
      const [oldest, ...others] = calls;
      t.same(await queueDigestCall(db, claimed!, at), { carrierId: oldest!.id, items: 3 });
      t.match(await row(oldest!.id), { status: 'pending', due_at: at, digest_id: claimed!.id, outcome: null, locked_by: null, locked_until: null });
      for (const c of others) t.match(await row(c.id), { status: 'done', outcome: 'digested', completed_at: at, digest_id: claimed!.id });
      t.match(await digest(claimed!.id), { status: 'done', sent_at: at, items: 3, carrier_attempt_id: oldest!.id, locked_by: null, locked_until: null });
      t.same(await digestCallSummary(db, claimed!.id), { tickets: 3, tenants: ['dcall-1 Mail', 'dcall-2 Mail', 'dcall-3 Mail'] });
    });

    t.test('the next call digest of a number waits while its carrier waits or is placed, until a period after it was placed', async (t) => {
      const number = '+14155557002';
      const [first, second] = await claimedTamAttempts(['carrier-1', 'carrier-2'], phoneTam(number));
      await holdForDigest(db, first!, NOW);
      const [claimed] = await claimDigests(NOW);
      const { carrierId } = await queueDigestCall(db, claimed!, NOW);
      const next = await holdForDigest(db, second!, secondsAfter(NOW, 1));

      const slotFreeAt = secondsAfter(NOW, PERIOD + 60);
      t.same(await claimDigests(slotFreeAt), [], 'not while the carrier waits to be placed (though the period is over)');
      const [carrier] = (await claimAllCalls(db, { now: slotFreeAt, leaseSeconds: LEASE_SECONDS, workerId: 'dialer' })).filter((c) => c.id === carrierId);
      t.match(carrier, { status: 'dispatching', digest_id: claimed!.id });
      t.same(await claimDigests(slotFreeAt), [], 'nor while it is being placed');
      t.same(await reserveNumber(db, carrierId!, number, 4, slotFreeAt), { ok: true });
      await markCallPlaced(db, carrierId!, 'CA-digest', secondsAfter(slotFreeAt, 300), slotFreeAt);
      t.same(await claimDigests(secondsAfter(slotFreeAt, PERIOD - 1)), [], 'nor within the period after it was placed');
      t.same(ids(await claimDigests(secondsAfter(slotFreeAt, PERIOD + 1))), [next]);
    });

    t.test('a call digest names only the tickets whose calls it carries', async (t) => {
      const calls = await claimedTamAttempts(['dsum-1', 'dsum-2', 'dsum-3'], phoneTam('+14155557004'));
      for (const c of calls) await holdForDigest(db, c, NOW);
      await command(db, calls[2]!.ticket_id, { type: 'suspend' }, { now: secondsAfter(NOW, 1), actor: 'agent:dana', reason: 'spam' });
      const [claimed] = await claimDigests(secondsAfter(NOW, 2));
      t.match(await queueDigestCall(db, claimed!, secondsAfter(NOW, 2)), { items: 2 }, 'the cancelled call is not carried');
      t.same(await digestCallSummary(db, claimed!.id), { tickets: 2, tenants: ['dsum-1 Mail', 'dsum-2 Mail'] }, 'the summary names the two tickets carried');
    });

    t.test('holding an attempt that is not being dispatched makes no digest', async (t) => {
      const { ticket } = await openTicketFor(db, 'no-digest', NOW, contactList({ bob: null, tam: emailTam('no-digest@msp.example') }));
      const [pending] = await storedRows(db, 'contact_attempts', { ticket_id: ticket.id, kind: 'tam_briefing' });
      t.equal(await holdForDigest(db, pending!, NOW), null);
      t.same(await storedRows(db, 'digests', { address: 'no-digest@msp.example' }), [], 'no empty digest is left collecting');
    });

    t.test('a call digest whose held calls were all cancelled queues no call', async (t) => {
      const [held] = await claimedTamAttempts(['dempty-1'], phoneTam('+14155557003'));
      const digestId = await holdForDigest(db, held!, NOW);
      await command(db, held!.ticket_id, { type: 'suspend' }, { now: secondsAfter(NOW, 1), actor: 'agent:dana', reason: 'spam' });
      t.match(await row(held!.id), { status: 'canceled' }, 'the walk stopped: the held call is cancelled');
      const [claimed] = await claimDigests(secondsAfter(NOW, 2));
      t.same(await queueDigestCall(db, claimed!, secondsAfter(NOW, 2)), { carrierId: null, items: 0 });
      t.match(await digest(digestId!), { status: 'done', items: 0, carrier_attempt_id: null, sent_at: null }, 'nothing went out: the period does not start');
    });
  });
}
