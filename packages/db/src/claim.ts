// Claiming due work, written once (the pattern of graphile-worker's getJobs): one statement selects due
// rows with FOR UPDATE SKIP LOCKED and leases them, so several workers never take the same row, and a
// row whose worker died is taken back when its lease runs out. `now` comes from the caller's clock.
import { sql } from 'kysely';
import type { Db } from './connect.js';
import type { ContactAttempt } from './schema.js';

export interface ClaimOptions {
  now: Date;
  limit: number;
  leaseSeconds: number;
  workerId: string;
}

export type Claimed<Row> = Row & { previous_status: string };

/**
 * Claims rows of a work table (columns status, due_at, locked_by, locked_until, tries, updated_at):
 * `pending` and `placed` rows that are due and not leased, and `dispatching` rows whose lease expired
 * (their worker died mid-dispatch; `previous_status` tells the caller so it can reconcile instead of
 * repeating the side effect). A claimed `pending` row becomes `dispatching`.
 */
export async function claimDue<Row = ContactAttempt>(db: Db, table: 'contact_attempts', o: ClaimOptions): Promise<Claimed<Row>[]> {
  const lockedUntil = new Date(o.now.getTime() + o.leaseSeconds * 1000);
  const t = sql.table(table);
  const result = await sql<Claimed<Row>>`
    with due as (
      select id, status as previous_status from ${t}
      where ((status in ('pending', 'placed') and due_at <= ${o.now}) or status = 'dispatching')
        and (locked_until is null or locked_until < ${o.now})
      order by due_at
      limit ${o.limit}
      for update skip locked)
    update ${t} as w set
      status = case when w.status = 'pending' then 'dispatching' else w.status end,
      locked_by = ${o.workerId}, locked_until = ${lockedUntil}, tries = w.tries + 1, updated_at = ${o.now}
    from due where w.id = due.id
    returning w.*, due.previous_status`.execute(db);
  return result.rows;
}

export interface PollLoop {
  /** Wakes the loop now (e.g. after this process queued work). */
  nudge(): void;
  /** Stops after the current tick; resolves when it has. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` again and again: at once while it reports work done, else after `idleMs`. A tick that
 * throws is logged and retried after `idleMs` — an outage of the database must not end the worker.
 */
export function pollLoop(o: { name: string; idleMs: number; tick: () => Promise<number>; onError: (err: unknown) => void }): PollLoop {
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
      nudged = false;
      try {
        worked = await o.tick();
      } catch (err) {
        o.onError(err);
      }
      // A nudge that came during the tick means new work: go again at once.
      if (running && worked === 0 && !nudged) await sleep(o.idleMs);
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
