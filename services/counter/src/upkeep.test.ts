// The counter role's upkeep bounds the dead letters (both engines): started over a table holding more than
// DEAD_LETTERS_MAX, it deletes the oldest down to the limit at once, batch after batch, and logs it.
import { storeDeadLetters } from '@abuse-desk/db';
import { ENGINES, openTestDb, storedRows } from '@abuse-desk/db/testing';
import { waitUntil } from '@abuse-desk/testkit';
import pino from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { startCounter } from './index.js';

for (const engine of ENGINES) {
  t.test(`${engine}: dead letters beyond DEAD_LETTERS_MAX are deleted, oldest first`, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const now = new Date();
    for (let from = 0; from < 12_000; from += 2000) {
      await storeDeadLetters(h.db, Array.from({ length: 2000 }, (_, i) => ({ source: 'kafka', topic: 'outbound-verdicts', partition: 0, offset: String(from + i), raw: Buffer.from('{'), reason: 'not JSON', receivedAt: now })));
    }
    const lines: { msg: string; deleted?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const counter = await startCounter({
      db: h.db,
      config: { kafka: undefined, resolutionTimeoutSeconds: 3600, dedupeWindowSeconds: 3600, countsRetentionDays: 30, deadLetters: { retentionDays: 30, max: 1000 }, enforcementDestinations: [] },
      logger,
      clock: { now: () => new Date() },
      registry: new Registry(),
    });
    t.teardown(() => counter.stop());
    const left = await waitUntil(async () => {
      const rows = await storedRows(h.db, 'dead_letters', {}, 'id');
      return rows.length === 1000 && rows;
    }, { timeoutMs: 30_000, message: 'the dead letters never came down to DEAD_LETTERS_MAX' });
    t.same([left[0]!.offset, left.at(-1)!.offset], ['11000', '11999'], 'the newest thousand are kept');
    const deleted = lines.filter((l) => l.msg === 'counter.dead_letters.forgotten').map((l) => l.deleted);
    t.same(deleted, [10_000, 1000], 'in batches of 10,000, one after another, on the record');
  });
}
