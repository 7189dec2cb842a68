// Which windows a counted batch checks (SPEC §5), without a database: whole minutes of event time, every
// minute that grew, a later bad bucket first, probation restarting the count, and the trip that wins.
import { DEFAULT_POLICY } from '@abuse-desk/contracts';
import type { Policy } from '@abuse-desk/contracts';
import t from 'tap';
import type { WindowCounts } from './policy.js';
import { MAX_WINDOWS_CHECKED, MINUTE, collectsSenders, evidenceWindow, firstTrip, laterSpan, needsCheck, surgeBaselineQuery, windowBounds, windowEnds, windowQueries } from './windows.js';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const min = (n: number) => T0 + n * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();
const counts = (spam: number, clean: number, virus = 0): WindowCounts => ({ spam, phish: 0, virus, clean });
const SURGE: Policy = { ...DEFAULT_POLICY, surge: { windowSeconds: 300, multiple: 20, baselineDays: 7, minVolume: 1000 } };

t.test('a window is whole minutes ending with the bucket of its end, and on probation starts after the reinstatement', async (t) => {
  const w = windowBounds(min(9) + 42_000, 600);
  t.same([iso(w.first.getTime()), iso(w.last.getTime()), iso(w.end.getTime())], [iso(min(0)), iso(min(9)), iso(min(10))]);
  t.equal(windowBounds(min(9), 90).first.getTime(), min(8), 'a partial minute counts as a whole one');
  t.equal(windowBounds(min(9), 600, new Date(min(4) + 1)).first.getTime(), min(5), 'counting restarts at the next whole minute');
});

t.test('a tenant is checked when its bad counts grew, or when its policy has a surge rule', async (t) => {
  t.equal(needsCheck({ grown: [], newest: min(3) }, DEFAULT_POLICY), false, 'only clean mail, no surge rule');
  t.equal(needsCheck({ grown: [min(3)], newest: min(3) }, DEFAULT_POLICY), true);
  t.equal(needsCheck({ grown: [], newest: min(3) }, SURGE), true, 'clean mail can trip a surge');
});

t.test('every minute that grew is a window end, latest first, after a later bad bucket, at most MAX_WINDOWS_CHECKED', async (t) => {
  const g = { grown: [min(1), min(5), min(3), min(5)], newest: min(7) };
  t.same(windowEnds(g, undefined), [min(5), min(3), min(1)]);
  t.same(windowEnds(g, min(12)), [min(12), min(5), min(3), min(1)]);
  t.same(windowEnds({ grown: [], newest: min(7) }, undefined), [min(7)], 'surge only: the newest minute');
  const many = { grown: Array.from({ length: 500 }, (_, i) => min(i)), newest: min(499) };
  t.equal(windowEnds(many, undefined).length, MAX_WINDOWS_CHECKED);
  t.equal(windowEnds(many, undefined)[0], min(499));
});

t.test('a later bad bucket is looked for as far as the longest window reaches', async (t) => {
  t.same(laterSpan({ grown: [min(2), min(4)], newest: min(4) }, DEFAULT_POLICY), { after: min(4), until: min(4) + 600_000 });
  t.equal(laterSpan({ grown: [], newest: min(4) }, DEFAULT_POLICY), null);
});

t.test('the sums asked for: spam and critical per end, and the surge window of the newest minute', async (t) => {
  const g = { grown: [min(9)], newest: min(9) };
  const q = windowQueries(SURGE, [min(9)], g, null);
  t.same(q.map((w) => [w.kind, iso(w.first.getTime()), iso(w.last.getTime())]), [
    [`spam:${min(9)}`, iso(min(0)), iso(min(9))],
    [`critical:${min(9)}`, iso(min(5)), iso(min(9))],
    ['surge', iso(min(5)), iso(min(9))],
  ]);
  const onProbation = windowQueries(DEFAULT_POLICY, [min(9)], g, { since: new Date(min(6)), until: new Date(min(60)) });
  t.equal(onProbation[0]!.first.getTime(), min(6));
});

t.test('the latest window that trips wins; a virus window wins over spam in the same end', async (t) => {
  const g = { grown: [min(9), min(3)], newest: min(9) };
  const sums = new Map([
    [`spam:${min(9)}`, counts(10, 100)],
    [`spam:${min(3)}`, counts(60, 100)],
    [`critical:${min(3)}`, counts(0, 0, 0)],
  ]);
  t.match(firstTrip(DEFAULT_POLICY, [min(9), min(3)], g, sums, null, null), { trip: { rule: 'spam' }, end: min(3) }, 'an earlier burst still trips');
  sums.set(`critical:${min(9)}`, counts(0, 0, 5));
  t.match(firstTrip(DEFAULT_POLICY, [min(9), min(3)], g, sums, null, null), { trip: { rule: 'virus', severity: 'critical' }, end: min(9) });
  t.equal(firstTrip(DEFAULT_POLICY, [min(9)], g, new Map(), null, null), null, 'no counts, no trip');
});

t.test('on probation every threshold is scaled and a trip is a repeat offence', async (t) => {
  const g = { grown: [min(9)], newest: min(9) };
  const sums = new Map([[`spam:${min(9)}`, counts(25, 100)]]);
  t.equal(firstTrip(DEFAULT_POLICY, [min(9)], g, sums, null, null), null, '25 is under 50');
  t.match(firstTrip(DEFAULT_POLICY, [min(9)], g, sums, { since: new Date(min(-60)), until: new Date(min(600)) }, null), { trip: { severity: 'repeat', suspendAtOnce: true } });
});

t.test('a surge baseline is looked up only when the surge window is large enough, and a surge trip describes the newest window', async (t) => {
  const g = { grown: [], newest: min(9) };
  t.equal(surgeBaselineQuery(SURGE, g, new Map([['surge', counts(0, 999)]]), null), null);
  t.equal(surgeBaselineQuery(DEFAULT_POLICY, g, new Map([['surge', counts(0, 5000)]]), null), null, 'no surge rule');
  const big = new Map([['surge', counts(0, 5000)]]);
  t.same(surgeBaselineQuery(SURGE, g, big, null), { before: new Date(min(5)), windowSeconds: 300, days: 7 });
  t.match(firstTrip(SURGE, [min(9)], g, big, null, 100), { trip: { rule: 'surge', surge: { volume: 5000, baseline: 100, multiple: 50 } }, end: min(9) });
  t.equal(firstTrip(SURGE, [min(9)], g, big, null, 300), null, '5000 is not over 20 × 300');
});

t.test('the evidence window and which verdicts its top senders count', async (t) => {
  const trip = (rule: 'spam' | 'virus' | 'surge') => ({ rule, severity: 'normal' as const, windowSeconds: 300, counts: counts(0, 0), total: 0, ratio: 0, thresholds: {}, suspendAtOnce: false });
  t.same(evidenceWindow(trip('spam'), min(9), null).verdicts, ['spam', 'phish']);
  t.same(evidenceWindow(trip('virus'), min(9), null).verdicts, ['virus']);
  t.same(evidenceWindow(trip('surge'), min(9), null).verdicts, ['spam', 'phish', 'virus', 'clean']);
  const w = evidenceWindow(trip('spam'), min(9), { since: new Date(min(7)), until: new Date(min(99)) });
  t.same([w.first.getTime(), w.end.getTime()], [min(7), min(10)]);
});

t.test("a tenant's senders are kept once its window would trip at half a threshold, not before", async (t) => {
  const end = min(9);
  const sums = (spam: number, clean: number, virus = 0) => new Map([[`spam:${end}`, counts(spam, clean)], [`critical:${end}`, counts(0, clean, virus)]]);
  t.notOk(collectsSenders(DEFAULT_POLICY, [end], sums(24, 100), null), '24 spam: under half of minSpam 50');
  t.ok(collectsSenders(DEFAULT_POLICY, [end], sums(25, 100), null), '25 spam at 20 %: half of both thresholds');
  t.notOk(collectsSenders(DEFAULT_POLICY, [end], sums(30, 2000), null), 'enough spam but 1.5 %: under half the 5 % ratio');
  t.ok(collectsSenders(DEFAULT_POLICY, [end], sums(0, 10, 3), null), '3 viruses: half of minVirus 5, rounded up');
  t.ok(collectsSenders(DEFAULT_POLICY, [end], sums(13, 10), { since: new Date(min(0)), until: new Date(min(600)) }), 'on probation: half of the halved threshold');
  t.ok(collectsSenders(SURGE, [end], new Map([['surge', counts(0, 500)]]), null), 'half the surge minimum volume');
  t.notOk(collectsSenders(SURGE, [end], new Map([['surge', counts(0, 499)]]), null));
});
