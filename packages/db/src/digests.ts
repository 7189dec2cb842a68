// Digests for contacts shared by several tenants (issue 14). An email or a TAM call to an address or number
// on more than one tenant's list is not sent on its own: the attempt is `held` on the digest that collects
// for that (channel, address), and one message per DIGEST_MINUTES carries every held attempt.
//
// - At most one digest collects per (channel, address) (`pending`, a unique partial index). Holding locks
//   it (FOR UPDATE) while the claim skips locked rows, so an attempt joins a digest before it is claimed or
//   the next one after — never one whose content is already decided.
// - A digest is due at once, but is claimed only when no other digest of its address went out in the last
//   period (for calls: was placed in it) and none is still being sent: at most one message per period.
// - An email digest is sent with a Message-ID of its own and marked done with its attempts in one
//   transaction; a notifier that dies in between leaves it `dispatching`, taken back after its lease and
//   sent again (like any email). A call digest hands one of its attempts (the carrier) to the call queue,
//   so it is paced and number-limited like every call; the others are done as `digested`.
import { sql } from 'kysely';
import type { Db } from './connect.js';
import { backoffMs, claim } from './claim.js';
import type { ClaimOptions, Claimed } from './claim.js';
import { EMAIL_BACKOFF, MAX_EMAIL_TRIES } from './attempts.js';
import type { ContactAttempt, Digest } from './schema.js';

type Channel = 'voice' | 'email';

/** Whether an address (email) or number (voice) is on the contact lists of at least two tenants. */
export async function isSharedAddress(db: Db, channel: Channel, address: string): Promise<boolean> {
  const column = channel === 'voice' ? 'phone' : 'email';
  const row = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.count<string>('tenant_id').distinct().as('n'))
    .where(column, '=', address)
    .executeTakeFirstOrThrow();
  return Number(row.n) >= 2;
}

/** The digest collecting for (channel, address), made if there is none; locked until the caller's transaction ends. */
async function collectingDigest(trx: Db, channel: Channel, address: string, dueAt: Date, now: Date): Promise<string> {
  for (;;) {
    await sql`insert into digests (channel, address, status, due_at, created_at) values (${channel}, ${address}, 'pending', ${dueAt}, ${now})
              on conflict (channel, address) where status = 'pending' do nothing`.execute(trx);
    // A digest claimed between the insert and this lock is no longer pending: make the next one.
    const row = await trx.selectFrom('digests').select('id').where('channel', '=', channel).where('address', '=', address).where('status', '=', 'pending').forUpdate().executeTakeFirst();
    if (row) return row.id;
  }
}

/** Holds a claimed attempt for the digest of its address. Returns the digest, or null if the attempt was not ours to hold. */
export async function holdForDigest(db: Db, a: Pick<ContactAttempt, 'id' | 'channel' | 'address'>, now: Date): Promise<string | null> {
  const channel = a.channel;
  if (channel === 'sms') throw new Error(`attempt ${a.id}: an SMS is never held for a digest`);
  return db.transaction().execute(async (trx) => {
    // The attempt first (then the digest): one that is not being dispatched leaves no digest behind.
    const mine = await trx.selectFrom('contact_attempts').select('id').where('id', '=', a.id).where('status', '=', 'dispatching').forUpdate().executeTakeFirst();
    if (!mine) return null;
    const digestId = await collectingDigest(trx, channel, a.address, now, now);
    await trx.updateTable('contact_attempts').set({ status: 'held', digest_id: digestId, updated_at: now, locked_by: null, locked_until: null }).where('id', '=', a.id).execute();
    return digestId;
  });
}

/**
 * Claims digests that may go out now: due, and no other digest of the same address sent (or its call
 * placed) within `periodSeconds`, none being sent, no digest call still waiting. `dispatching` ones whose
 * lease ran out come back with previous_status `dispatching`.
 */
export function claimDueDigests(db: Db, o: ClaimOptions & { periodSeconds: number }): Promise<Claimed<Digest>[]> {
  const since = new Date(o.now.getTime() - o.periodSeconds * 1000);
  return claim<Claimed<Digest>>(db, {
    table: 'digests',
    key: ['id'],
    due: sql`((digests.status = 'pending' and digests.due_at <= ${o.now}) or digests.status = 'dispatching')
      and not exists (
        select 1 from digests p left join contact_attempts ca on ca.id = p.carrier_attempt_id
        where p.channel = digests.channel and p.address = digests.address and p.id <> digests.id
          and (p.status = 'dispatching' or p.sent_at > ${since} or ca.placed_at > ${since} or ca.status in ('pending', 'dispatching')))`,
    orderBy: 'due_at',
    limit: o.limit,
    lease: { now: o.now, seconds: o.leaseSeconds, workerId: o.workerId, set: sql`status = 'dispatching'` },
    carry: ['status'],
  });
}

/** The attempts a digest carries, oldest first. */
export function digestItems(db: Db, digestId: string): Promise<ContactAttempt[]> {
  return db.selectFrom('contact_attempts').selectAll().where('digest_id', '=', digestId).where('status', '=', 'held').orderBy('created_at').orderBy('id').execute();
}

/** The email digest was accepted: it and every attempt it carried are done, in one transaction. */
export async function markDigestSent(db: Db, d: Pick<Digest, 'id'>, providerRef: string, items: number, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('contact_attempts')
      .set({ status: 'done', outcome: 'sent', provider_ref: providerRef, completed_at: now, updated_at: now, last_error: null })
      .where('digest_id', '=', d.id)
      .where('status', '=', 'held')
      .execute();
    // An empty digest (every message cancelled meanwhile) sent nothing: it does not start a period.
    await trx.updateTable('digests').set({ status: 'done', sent_at: items ? now : null, provider_ref: providerRef || null, items, locked_by: null, locked_until: null, last_error: null }).where('id', '=', d.id).execute();
  });
}

/**
 * The email digest was refused: it ends `failed`, and its attempts are held again on the digest that
 * collects now (due after a backoff), so they go out with the next one — or fail after MAX_EMAIL_TRIES.
 */
export async function markDigestFailed(db: Db, d: Pick<Digest, 'id' | 'channel' | 'address' | 'tries'>, error: string, now: Date): Promise<'retry' | 'failed'> {
  const giveUp = d.tries >= MAX_EMAIL_TRIES;
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('digests').set({ status: 'failed', last_error: error, locked_by: null, locked_until: null }).where('id', '=', d.id).execute();
    if (giveUp) {
      await trx
        .updateTable('contact_attempts')
        .set({ status: 'failed', outcome: 'failed', last_error: error, completed_at: now, updated_at: now })
        .where('digest_id', '=', d.id)
        .where('status', '=', 'held')
        .execute();
      return;
    }
    const retryAt = new Date(now.getTime() + backoffMs(d.tries, EMAIL_BACKOFF));
    const next = await collectingDigest(trx, d.channel, d.address, retryAt, now);
    // The tries carry over, so a server that keeps refusing ends the retries.
    await sql`update digests set due_at = greatest(due_at, ${retryAt}), tries = greatest(tries, ${d.tries}) where id = ${next}`.execute(trx);
    await trx.updateTable('contact_attempts').set({ digest_id: next, last_error: error, updated_at: now }).where('digest_id', '=', d.id).where('status', '=', 'held').execute();
  });
  return giveUp ? 'failed' : 'retry';
}

/**
 * A call digest: the oldest held call becomes the carrier, queued to be placed now (paced and
 * number-limited like any call; what it says names every ticket of the digest); the others are done as
 * `digested`. Returns the carrier, or null when nothing was held (every call was cancelled meanwhile).
 */
export async function queueDigestCall(db: Db, d: Pick<Digest, 'id'>, now: Date): Promise<{ carrierId: string | null; items: number }> {
  return db.transaction().execute(async (trx) => {
    const items = await trx.selectFrom('contact_attempts').select('id').where('digest_id', '=', d.id).where('status', '=', 'held').orderBy('created_at').orderBy('id').forUpdate().execute();
    const carrier = items[0]?.id ?? null;
    if (carrier) {
      await trx.updateTable('contact_attempts').set({ status: 'pending', due_at: now, updated_at: now }).where('id', '=', carrier).execute();
      await trx
        .updateTable('contact_attempts')
        .set({ status: 'done', outcome: 'digested', completed_at: now, updated_at: now })
        .where('digest_id', '=', d.id)
        .where('status', '=', 'held')
        .execute();
    }
    await trx.updateTable('digests').set({ status: 'done', sent_at: carrier ? now : null, items: items.length, carrier_attempt_id: carrier, locked_by: null, locked_until: null }).where('id', '=', d.id).execute();
    return { carrierId: carrier, items: items.length };
  });
}

/** What a digest call says: how many tickets its digest carried, for which tenants. */
export async function digestCallSummary(db: Db, digestId: string): Promise<{ tickets: number; tenants: string[] }> {
  const rows = await db
    .selectFrom('contact_attempts as a')
    .innerJoin('tickets as t', 't.id', 'a.ticket_id')
    .innerJoin('tenants as n', 'n.id', 't.tenant_id')
    .select(['t.id', 'n.name'])
    .distinct()
    .where('a.digest_id', '=', digestId)
    // Calls cancelled while held (their walk stopped) were not carried.
    .where('a.status', '<>', 'canceled')
    .execute();
  return { tickets: new Set(rows.map((r) => r.id)).size, tenants: [...new Set(rows.map((r) => r.name))].sort() };
}
