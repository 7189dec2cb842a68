// Claiming due work, written once (the pattern of graphile-worker's getJobs): one statement selects due
// rows with FOR UPDATE SKIP LOCKED and leases them, so several workers never take the same row, and a
// row whose worker died is taken back when its lease runs out. `now` comes from the caller's clock.
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { Db } from './connect.js';
import type { ContactAttempt, Database } from './schema.js';

export interface ClaimSpec {
  table: keyof Database & ('contact_attempts' | 'call_commands' | 'outbox_deliveries' | 'tickets' | 'digests' | 'complaint_reports');
  /** The columns that identify a row. */
  key: readonly string[];
  /** Which rows are due (may refer to the table's columns unqualified). */
  due: RawBuilder<unknown>;
  orderBy: string;
  /** Orders the due rows by this instead of `orderBy` (may refer to the table's columns qualified by its name). */
  rank?: RawBuilder<unknown>;
  limit: number;
  /**
   * Head of line: only the oldest row (by `orderBy`) of each `partitionBy` value among the rows matching
   * `among` can be claimed, so a partition's rows are worked in order (a tenant's enforcement events).
   */
  headOf?: { partitionBy: string; orderBy: string; among: RawBuilder<unknown> };
  /**
   * Lease the rows to a worker (locked_by, locked_until, tries + 1, and `set`, which may refer to the row
   * as `w`); rows whose lease is still running are skipped, rows whose lease ran out are taken back.
   * Without a lease the rows stay locked for the caller's transaction only.
   */
  lease?: { now: Date; seconds: number; workerId: string; set?: RawBuilder<unknown> };
  /** Columns whose value before the claim is returned as `previous_<column>`. */
  carry?: readonly string[];
}

/**
 * Claims due rows of a work table in one statement: a CTE selects them `FOR UPDATE SKIP LOCKED` (several
 * workers never take the same row) and the update leases them. Every queue of the project — contact
 * attempts, call commands, enforcement deliveries, deadlines — is claimed here.
 */
export async function claim<Row>(db: Db, s: ClaimSpec): Promise<Row[]> {
  const t = sql.table(s.table);
  const keys = sql.join(s.key.map((k) => sql.ref(k)));
  const head = s.headOf
    ? sql`and (${keys}) in (select distinct on (${sql.ref(s.headOf.partitionBy)}) ${keys} from ${t} where ${s.headOf.among} order by ${sql.ref(s.headOf.partitionBy)}, ${sql.ref(s.headOf.orderBy)})`
    : sql``;
  if (!s.lease) {
    const r = await sql<Row>`select * from ${t} where ${s.due} ${head} order by ${s.rank ?? sql.ref(s.orderBy)} limit ${s.limit} for update skip locked`.execute(db);
    return r.rows;
  }
  const { now, seconds, workerId } = s.lease;
  const until = new Date(now.getTime() + seconds * 1000);
  const carry = s.carry ?? [];
  const carried = sql.join([...s.key, ...carry].map((c) => sql.ref(c)));
  const returned = carry.length ? sql`, ${sql.join(carry.map((c) => sql`due.${sql.ref(c)} as ${sql.ref(`previous_${c}`)}`))}` : sql``;
  const match = sql.join(s.key.map((k) => sql`w.${sql.ref(k)} = due.${sql.ref(k)}`), sql` and `);
  const r = await sql<Row>`
    with due as (
      select ${carried} from ${t}
      where ${s.due} and (locked_until is null or locked_until < ${now}) ${head}
      order by ${s.rank ?? sql.ref(s.orderBy)}
      limit ${s.limit}
      for update skip locked)
    update ${t} as w set locked_by = ${workerId}, locked_until = ${until}, tries = w.tries + 1 ${s.lease.set ? sql`, ${s.lease.set}` : sql``}
    from due where ${match}
    returning w.*${returned}`.execute(db);
  return r.rows;
}

/** The one retry schedule: exponential from `firstMs`, capped at `capMs`, with ±50 % jitter so retries spread out. */
export const backoffMs = (tries: number, o: { firstMs: number; capMs: number }, random = Math.random()) =>
  Math.min(o.capMs, o.firstMs * 2 ** Math.min(Math.max(tries, 1) - 1, 20)) * (0.5 + random);

export interface ClaimOptions {
  now: Date;
  limit: number;
  leaseSeconds: number;
  workerId: string;
}

export type Claimed<Row> = Row & { previous_status: string };

/**
 * Claims contact attempts: `pending` emails and `placed` calls that are due, and `dispatching` ones whose
 * lease ran out (their worker died mid-dispatch; `previous_status` tells the caller so it can reconcile
 * instead of repeating the side effect). A claimed `pending` row becomes `dispatching`. Calls waiting to
 * be placed are not claimed here: they wait for a call slot (claimNextCall in pacing.ts).
 */
export function claimDue<Row = ContactAttempt>(db: Db, table: 'contact_attempts', o: ClaimOptions): Promise<Claimed<Row>[]> {
  return claim<Claimed<Row>>(db, {
    table,
    key: ['id'],
    due: sql`((status = 'pending' and channel in ('email', 'sms') and due_at <= ${o.now}) or (status = 'placed' and due_at <= ${o.now}) or status = 'dispatching')`,
    orderBy: 'due_at',
    limit: o.limit,
    lease: { now: o.now, seconds: o.leaseSeconds, workerId: o.workerId, set: sql`status = case when w.status = 'pending' then 'dispatching' else w.status end, updated_at = ${o.now}` },
    carry: ['status'],
  });
}

export interface PollLoop {
  /** Wakes the loop now (e.g. after this process queued work). */
  nudge(): void;
  /** Stops after the current tick; resolves when it has. */
  stop(): Promise<void>;
}

/** A tick's work done, and how soon to look again when it did none (at most the loop's idleMs). */
export interface TickResult {
  worked: number;
  idleMs: number;
}

/**
 * Runs `tick` again and again: at once while it reports work done, else after `idleMs`. A tick that
 * throws is logged and retried after `idleMs` — an outage of the database must not end the worker.
 */
export function pollLoop(o: { name: string; idleMs: number; tick: () => Promise<number | TickResult>; onError: (err: unknown) => void }): PollLoop {
  let running = true;
  let nudged = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const done = (async () => {
    while (running) {
      let worked = 0;
      let idleMs = o.idleMs;
      nudged = false;
      try {
        const r = await o.tick();
        worked = typeof r === 'number' ? r : r.worked;
        if (typeof r !== 'number') idleMs = Math.min(o.idleMs, r.idleMs);
      } catch (err) {
        o.onError(err);
      }
      // A nudge that came during the tick means new work: go again at once.
      if (running && worked === 0 && !nudged) await sleep(idleMs);
    }
  })();
  return {
    nudge: () => {
      nudged = true;
      wake?.();
    },
    stop: async () => {
      running = false;
      wake?.();
      await done;
    },
  };
}
