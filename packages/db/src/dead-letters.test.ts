// Dead letters are bounded (both engines): older than the retention, or beyond the newest DEAD_LETTERS_MAX,
// they are deleted oldest first in bounded batches — a producer sending only garbage fills the table to the
// limit, not without end.
import t from 'tap';
import { forgetDeadLetters, storeDeadLetters } from './offsets.js';
import { ENGINES, openTestDb, storedRows } from './testing.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const letter = (receivedAt: Date, n: number) => ({ source: 'kafka', topic: 'outbound-verdicts', partition: 0, offset: String(n), raw: Buffer.from(`not json ${n}`), reason: 'not JSON', receivedAt });

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    const offsets = async () => (await storedRows(h.db, 'dead_letters', {}, 'id')).map((r) => Number(r.offset));

    t.test('letters older than the retention go, oldest first, a bounded batch at a time', async (t) => {
      await storeDeadLetters(db, [letter(daysAgo(40), 1), letter(daysAgo(35), 2), letter(daysAgo(31), 3), letter(daysAgo(2), 4)]);
      t.equal(await forgetDeadLetters(db, { before: daysAgo(30), keep: 1000, limit: 2 }), 2);
      t.same(await offsets(), [3, 4], 'the two oldest first');
      t.equal(await forgetDeadLetters(db, { before: daysAgo(30), keep: 1000, limit: 2 }), 1);
      t.equal(await forgetDeadLetters(db, { before: daysAgo(30), keep: 1000, limit: 2 }), 0, 'then nothing');
      t.same(await offsets(), [4], 'a recent letter stays');
    });

    t.test('beyond the newest `keep` letters the rest go, however recent', async (t) => {
      await storeDeadLetters(db, Array.from({ length: 9 }, (_, i) => letter(NOW, 10 + i)));
      let deleted = 0;
      for (let n; (n = await forgetDeadLetters(db, { before: daysAgo(30), keep: 4, limit: 3 })); ) deleted += n;
      t.equal(deleted, 6, 'ten letters, four kept');
      t.same(await offsets(), [15, 16, 17, 18], 'the newest four');
    });
  });
}
