import { ContactList, Verdict } from '@abuse-desk/contracts';
import t from 'tap';
import { TestClock } from './clock.js';
import { contactList } from './contacts.js';
import { ticketView } from './ticket-view.js';
import { cleanBurst, spamBurst, verdict, verdictBurst } from './verdicts.js';

t.test('a verdict is valid as the api reads it, and overrides replace its fields', async (t) => {
  const at = new Date('2026-11-20T10:00:00Z');
  t.ok(Verdict.safeParse(verdict()).success);
  t.match(verdict({ tenantId: 'globex', verdict: 'virus', at, sender: 'x@globex.example' }), { tenantId: 'globex', verdict: 'virus', occurredAt: '2026-11-20T10:00:00.000Z', sender: 'x@globex.example', messageId: /@globex\.example>$/ });
  t.not(verdict().messageId, verdict().messageId, 'each gets its own messageId');
});

t.test('bursts give a tenant N verdicts of one kind, each with a messageId no other burst uses', async (t) => {
  const at = new Date('2026-11-20T10:00:00Z');
  const spam = spamBurst('acme', 60, { at });
  t.equal(spam.length, 60);
  t.ok(spam.every((v) => v.verdict === 'spam' && v.tenantId === 'acme' && v.occurredAt === at.toISOString() && Verdict.safeParse(v).success));
  const clean = cleanBurst('acme', 40);
  t.ok(clean.every((v) => v.verdict === 'clean'));
  t.equal(new Set([...spam, ...clean].map((v) => v.messageId)).size, 100);
  const mixed = verdictBurst('acme', 4, (i) => ({ verdict: i % 2 ? 'clean' : 'phish', recipients: 2 }));
  t.same(mixed.map((v) => [v.verdict, v.recipients]), [['phish', 2], ['clean', 2], ['phish', 2], ['clean', 2]], 'a function of the index varies each one');
});

t.test('the contact list is two contacts and a TAM, valid as the api reads it; overrides change or drop entries', async (t) => {
  t.ok(ContactList.safeParse(contactList()).success);
  t.same(contactList().map((c) => [c.name, c.role]), [['Alice Admin', 'contact'], ['Bob Backup', 'contact'], ['Tara TAM', 'tam']]);
  const noTam = contactList({ bob: { phone: undefined }, tam: null });
  t.same(noTam.map((c) => c.name), ['Alice Admin', 'Bob Backup']);
  t.notOk('phone' in noTam[1]!, 'a field set to undefined is removed');
  t.ok(ContactList.safeParse(noTam).success);
});

t.test('the sample ticket view merges evidence overrides into its own', async (t) => {
  const view = ticketView({ state: 'engaged', evidence: { windowSeconds: 300 } });
  t.equal(view.state, 'engaged');
  t.equal(view.evidence.windowSeconds, 300);
  t.equal(view.evidence.total, 5000, 'the rest of the evidence stays');
  t.not(ticketView().deadlineAt, ticketView().deadlineAt, 'a fresh copy each call');
});

t.test('the test clock stands still until moved or set', async (t) => {
  const clock = new TestClock('2026-11-20T10:00:00Z');
  t.equal(clock.now().toISOString(), '2026-11-20T10:00:00.000Z');
  clock.advance(90_000);
  const { now } = clock;
  t.equal(now().toISOString(), '2026-11-20T10:01:30.000Z', 'now works detached from the clock');
  clock.now().setFullYear(1999);
  t.equal(clock.now().getUTCFullYear(), 2026, 'a returned Date cannot move it');
  clock.set(new Date('2026-12-01T00:00:00Z'));
  t.equal(clock.now().toISOString(), '2026-12-01T00:00:00.000Z');
});
