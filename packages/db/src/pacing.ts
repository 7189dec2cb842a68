// Call pacing and protected numbers (issue 14), shared by every notifier through the database.
//
// Pacing: TWILIO_CALLS_PER_SECOND rows in call_slots. A notifier leases a free slot before it claims a
// call, and gives it back with available_at one second after the provider answered the create — so the
// creates of one slot reach the provider at least a second apart, and all slots together at most
// `rate` in any second, however many notifiers there are. A slot whose holder died comes back when its
// lease runs out. Slot times are the database's clock (clock_timestamp()), the one clock every notifier
// shares.
//
// Protected numbers: before a call is placed (or an SMS sent), a transaction takes an advisory lock on the
// number, counts the calls (or SMS) decided to it in the last hour (placed_at) across all tickets, and
// stamps this one — so two notifiers never both take the last call or SMS a number has left.
import { sql } from 'kysely';
import type { Db } from './connect.js';
import { claim } from './claim.js';
import type { ClaimOptions, Claimed } from './claim.js';
import type { ContactAttempt } from './schema.js';

/** Makes the slot rows match the configured rate (a notifier started with another rate resizes the set). */
export async function ensureCallSlots(db: Db, callsPerSecond: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`insert into call_slots (slot) select g from generate_series(0, ${callsPerSecond - 1}::int) g on conflict (slot) do nothing`.execute(trx);
    await trx.deleteFrom('call_slots').where('slot', '>=', callsPerSecond).execute();
  });
}

export type SlotTake = { taken: true; slot: number } | { taken: false; waitMs: number };

/**
 * Leases the call slot that has been free longest, or says how long until one is free. The lease is how
 * long a holder may keep it (the create's time out and then some) before another notifier takes it back.
 */
export async function takeCallSlot(db: Db, o: { workerId: string; leaseSeconds: number }): Promise<SlotTake> {
  const r = await sql<{ slot: number }>`
    update call_slots set locked_by = ${o.workerId}, locked_until = clock_timestamp() + make_interval(secs => ${o.leaseSeconds})
    where slot = (
      select slot from call_slots
      where available_at <= clock_timestamp() and (locked_until is null or locked_until < clock_timestamp())
      order by available_at limit 1 for update skip locked)
    returning slot`.execute(db);
  if (r.rows[0]) return { taken: true, slot: r.rows[0].slot };
  const next = await sql<{ ms: number | null }>`
    select extract(epoch from min(greatest(available_at, coalesce(locked_until, available_at))) - clock_timestamp()) * 1000 as ms from call_slots`.execute(db);
  const ms = Number(next.rows[0]?.ms ?? 1000);
  return { taken: false, waitMs: Math.max(0, Math.ceil(ms)) };
}

/**
 * Gives a slot back: after a create (`used`), free again one second from now; otherwise at once. Only the
 * holder gives it back — a holder whose lease ran out (another notifier took the slot) changes nothing.
 */
export async function releaseCallSlot(db: Db, slot: number, workerId: string, used: boolean): Promise<void> {
  await sql`
    update call_slots set locked_by = null, locked_until = null,
      available_at = case when ${used} then clock_timestamp() + interval '1 second' else available_at end,
      calls = calls + case when ${used} then 1 else 0 end
    where slot = ${slot} and locked_by = ${workerId}`.execute(db);
}

/** Whether any call waits to be placed (cheap: the notifier asks before it takes a slot). */
export async function callWaiting(db: Db, now: Date): Promise<boolean> {
  const r = await sql`select 1 from contact_attempts where channel = 'voice' and status = 'pending' and due_at <= ${now} limit 1`.execute(db);
  return r.rows.length > 0;
}

/**
 * Claims the most urgent call waiting to be placed: critical and repeat tickets first; then earlier walk
 * steps (every tenant's first contact, and the TAM, before anyone's second: in a storm each tenant hears
 * from us once before any is called twice); then the ticket that has waited longest; then the attempt
 * queued first. The claimed row is `dispatching`.
 */
export async function claimNextCall(db: Db, o: Omit<ClaimOptions, 'limit'>): Promise<Claimed<ContactAttempt> | undefined> {
  const ticket = (column: string) => sql`(select ${sql.ref(`t.${column}`)} from tickets t where t.id = contact_attempts.ticket_id)`;
  const rows = await claim<Claimed<ContactAttempt>>(db, {
    table: 'contact_attempts',
    key: ['id'],
    due: sql`channel = 'voice' and status = 'pending' and due_at <= ${o.now}`,
    orderBy: 'due_at',
    rank: sql`${ticket('severity')} = 'normal', step, ${ticket('opened_at')}, due_at, id`,
    limit: 1,
    lease: { now: o.now, seconds: o.leaseSeconds, workerId: o.workerId, set: sql`status = 'dispatching', updated_at = ${o.now}` },
    carry: ['status'],
  });
  return rows[0];
}

/** `inLastHour`: the calls (or SMS) already decided to the number in the last hour. */
export type NumberReservation = { ok: true } | { ok: false; inLastHour: number };

/**
 * Decides whether a claimed call (or SMS, `channel` sms) may go to its number: fewer than `perHour` of that
 * channel were decided to that number in the hour before `now` (any ticket, any tenant). If so the attempt
 * is stamped (placed_at) and counts from now on. The advisory lock makes the count and the stamp one step
 * per number and channel; calls and SMS have separate allowances.
 */
export async function reserveNumber(db: Db, attemptId: string, address: string, perHour: number, now: Date, channel: 'voice' | 'sms' = 'voice'): Promise<NumberReservation> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`${channel === 'voice' ? 'call' : 'sms'}-number:${address}`}, 0))`.execute(trx);
    const since = new Date(now.getTime() - 3600_000);
    const row = await trx
      .selectFrom('contact_attempts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('channel', '=', channel)
      .where('address', '=', address)
      .where('placed_at', '>', since)
      .where('id', '<>', attemptId)
      .executeTakeFirstOrThrow();
    const n = Number(row.n);
    if (n >= perHour) return { ok: false, inLastHour: n };
    await trx.updateTable('contact_attempts').set({ placed_at: now }).where('id', '=', attemptId).execute();
    return { ok: true };
  });
}

/** The call queue: calls due and waiting for a slot, and how long the oldest has waited. */
export async function callQueueStats(db: Db, now: Date): Promise<{ length: number; oldestAgeSeconds: number }> {
  const row = await db
    .selectFrom('contact_attempts')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('due_at').as('oldest')])
    .where('channel', '=', 'voice')
    .where('status', '=', 'pending')
    .where('due_at', '<=', now)
    .executeTakeFirstOrThrow();
  const oldest = row.oldest ? new Date(row.oldest as Date).getTime() : null;
  return { length: Number(row.n), oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest) / 1000) };
}
