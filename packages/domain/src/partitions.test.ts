// Counting's partitions, without a database: dedupe partitions one window long, aligned, made one ahead and
// forgotten whole once their newest key is older than the window; day partitions of counts forgotten after
// the retention; never overlapping what exists.
import t from 'tap';
import { DAY_MINUTES, countsForgetBefore, dedupeForgetBefore, dedupePartitionMinutes, dedupeSlotsAhead, expiredPartitions, partitionName, partitionsToMake, rangeOfPartition, slotOf } from './partitions.js';

const at = (iso: string) => new Date(iso);
const H = 3600;
const HOUR = slotOf(at('2026-11-30T10:00:00Z'));

t.test("the dedupe partition of this minute and the next one are made, each one window long and aligned", async (t) => {
  const now = at('2026-11-30T10:17:30Z');
  const slots = dedupeSlotsAhead(now, H);
  t.same(partitionsToMake([], slots, dedupePartitionMinutes(H)), [{ from: HOUR, to: HOUR + 60 }, { from: HOUR + 60, to: HOUR + 120 }]);
  t.same(partitionsToMake([{ from: HOUR, to: HOUR + 60 }, { from: HOUR + 60, to: HOUR + 120 }], slots, 60), [], 'nothing to make when both exist');
  t.same(partitionsToMake([{ from: HOUR, to: HOUR + 60 }], slots, 60), [{ from: HOUR + 60, to: HOUR + 120 }], 'only the missing one');
});

t.test('a dedupe partition goes once its newest key is older than the window, not before', async (t) => {
  const old = { from: HOUR - 60, to: HOUR }; // keys first seen 09:00–09:59:59.999
  t.same(expiredPartitions([old], dedupeForgetBefore(at('2026-11-30T10:59:59Z'), H)), [], 'a key seen at 09:59:59 is an hour old only at 10:59:59');
  t.same(expiredPartitions([old], dedupeForgetBefore(at('2026-11-30T11:00:00Z'), H)), [old]);
});

t.test('after the window changes, new partitions fill only the gaps the old ones leave', async (t) => {
  t.same(partitionsToMake([{ from: HOUR, to: HOUR + 60 }], dedupeSlotsAhead(at('2026-11-30T10:50:00Z'), 1800), 30), [{ from: HOUR + 60, to: HOUR + 90 }], 'the half hour after the existing hour');
  t.same(partitionsToMake([{ from: HOUR + 10, to: HOUR + 20 }], [HOUR + 5, HOUR + 25], 60), [{ from: HOUR, to: HOUR + 10 }, { from: HOUR + 20, to: HOUR + 60 }], 'around a partition made under a shorter window');
});

t.test('counts are kept in UTC days, made for the days a batch writes and dropped after the retention', async (t) => {
  const day = slotOf(at('2026-11-30T00:00:00Z'));
  t.same(partitionsToMake([], [slotOf(at('2026-11-30T10:17:00Z')), slotOf(at('2026-11-30T23:59:00Z')), slotOf(at('2026-11-29T23:00:00Z'))], DAY_MINUTES), [
    { from: day - DAY_MINUTES, to: day },
    { from: day, to: day + DAY_MINUTES },
  ]);
  const oct31 = { from: slotOf(at('2026-10-31T00:00:00Z')), to: slotOf(at('2026-11-01T00:00:00Z')) };
  t.same(expiredPartitions([oct31], countsForgetBefore(at('2026-11-30T23:59:00Z'), 30)), [], 'a bucket of 31 Oct 23:59 is not 30 days old yet');
  t.same(expiredPartitions([oct31], countsForgetBefore(at('2026-12-01T00:00:00Z'), 30)), [oct31]);
});

t.test('partitions are named by their range and read back from the name', async (t) => {
  t.equal(partitionName('verdict_seen', { from: 29400000, to: 29400060 }), 'verdict_seen_29400000_29400060');
  t.same(rangeOfPartition('verdict_seen', 'verdict_seen_29400000_29400060'), { from: 29400000, to: 29400060 });
  t.equal(rangeOfPartition('counts', 'verdict_seen_29400000_29400060'), null);
  t.equal(partitionName('counts', { from: -1440, to: 0 }), 'counts_m1440_0', 'a day before 1970');
  t.same(rangeOfPartition('counts', 'counts_m1440_0'), { from: -1440, to: 0 });
  t.equal(dedupePartitionMinutes(90), 2);
  t.equal(dedupePartitionMinutes(1), 1);
});
