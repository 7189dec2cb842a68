// Top senders kept per tenant-minute, without a database: bounded however many addresses a spam run uses,
// nothing lost from the totals, and the evidence counting the verdict kinds its rule is about.
import t from 'tap';
import { OTHER_SENDERS, TOP_SENDERS_PER_MINUTE, evidenceSlots, foldTopSenders, tallySender } from './senders.js';
import type { SenderTallies } from './senders.js';

const total = (s: SenderTallies) => Object.values(s).reduce((n, [a, b, c]) => n + a + b + c, 0);

t.test('a spam run from a thousand random addresses keeps the top senders by name and folds the rest into one entry', async (t) => {
  const tallies: SenderTallies = {};
  for (let i = 0; i < 1000; i++) tallySender(tallies, `x${i}@botnet.example`, 'spam');
  for (let i = 0; i < 30; i++) tallySender(tallies, 'billing@acme.example', 'clean');
  for (let i = 0; i < 5; i++) tallySender(tallies, 'promo@acme.example', 'phish');
  const folded = foldTopSenders(tallies);
  t.equal(Object.keys(folded).length, TOP_SENDERS_PER_MINUTE + 1, 'the top ten and one "other"');
  t.same(folded['promo@acme.example'], [5, 0, 0], 'the sender with most bad verdicts comes first');
  t.notOk('billing@acme.example' in folded, 'a clean-only sender loses its place to bad ones');
  t.equal(total(folded), 1035, 'no verdict is lost from the totals');
  t.equal(folded[OTHER_SENDERS]![2], 30, 'the folded clean mail is still counted');
});

t.test('folding is stable and folding twice changes nothing', async (t) => {
  const tallies: SenderTallies = {};
  for (let i = 0; i < 20; i++) tallySender(tallies, `s${String(i).padStart(2, '0')}@a.example`, 'virus');
  const once = foldTopSenders(tallies, 3);
  t.same(Object.keys(once).filter((s) => s !== OTHER_SENDERS), ['s00@a.example', 's01@a.example', 's02@a.example'], 'ties go by name');
  t.same(foldTopSenders(once, 3), once);
  t.same(once[OTHER_SENDERS], [0, 17, 0]);
});

t.test('a verdict without a sender is counted but not tallied by sender', async (t) => {
  const tallies: SenderTallies = {};
  tallySender(tallies, undefined, 'spam');
  tallySender(tallies, '', 'spam');
  t.same(tallies, {});
});

t.test('the evidence of each rule counts the verdict kinds its rule is about', async (t) => {
  t.same(evidenceSlots(['spam', 'phish']), [0]);
  t.same(evidenceSlots(['virus']), [1]);
  t.same(evidenceSlots(['spam', 'phish', 'virus', 'clean']), [0, 1, 2]);
});
