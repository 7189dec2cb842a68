// A TAM on the lists of fifty tenants that trip at once (issue 14) gets digests — at most one email and
// one call per DIGEST_MINUTES — instead of fifty briefings, while each tenant's own contact still gets
// its ticket's own messages. Two notifier processes share the work.
import { waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { query } from './harness.js';
import { addTenants, creates, surgeWorld, tripAll } from './surge-world.js';

const TAM = { name: 'Tom TAM', phone: '+14155550199', email: 'tom@platform.example', role: 'tam', preferredChannel: 'phone' };
const isDigest = (subject: string | undefined) => (subject ?? '').startsWith('[abuse-desk] Digest:');

t.test('a TAM of fifty tripping tenants gets digests, not fifty briefings, and at most one digest call per period', async (t) => {
  const w = await surgeWorld(t, 'surgedigest', { DIGEST_MINUTES: '1', TWILIO_CALLS_PER_SECOND: '5' }, 2);
  const ids = Array.from({ length: 50 }, (_, i) => `tam${String(i).padStart(2, '0')}`);
  // Each tenant's own contact has email only: its walk is a follow-up and a final notice, at once.
  await addTenants(w, ids, (id) => [{ name: `Ops ${id}`, email: `ops@${id}.example`, role: 'contact' }, TAM]);
  // Every ticket's TAM briefing reaches Tom inside some digest; the first digest goes out at once, the rest a period later.
  // The tenants trip in two waves, the second once the first digest went out: tripped in one go, all fifty
  // briefings can be held before the first digest is collected (a fresh-clone CI run on Node 24 saw one digest of
  // fifty), and the period between digests would go unchecked.
  const toTom = () => w.sink.messages.filter((m) => m.envelopeTo.includes(TAM.email));
  const briefed = () => new Set(toTom().filter((m) => isDigest(m.subject)).flatMap((m) => [...(m.text ?? '').matchAll(/^(ABU-\d{6}) · .* · TAM briefing/gm)].map((x) => x[1])));
  const numbers = await tripAll(w, ids.slice(0, 5));
  await waitUntil(() => toTom().some((m) => isDigest(m.subject)), { timeoutMs: 20_000, message: 'no digest reached the TAM' });
  numbers.push(...(await tripAll(w, ids.slice(5))));
  t.equal(numbers.length, 50, 'fifty tickets');
  await waitUntil(() => numbers.every((n) => briefed().has(n)), { timeoutMs: 100_000, intervalMs: 500, message: 'not every ticket was in a digest' });

  const mails = toTom();
  t.equal(mails.filter((m) => !isDigest(m.subject)).length, 0, 'no per-ticket email to the TAM');
  const digests = mails.filter((m) => isDigest(m.subject));
  t.ok(digests.length >= 2 && digests.length <= 3, `a few digests, not fifty messages (${digests.length})`);
  for (let i = 1; i < digests.length; i++) {
    const gap = digests[i]!.receivedAt.getTime() - digests[i - 1]!.receivedAt.getTime();
    t.ok(gap >= 59_000, `digest ${i + 1} came ${Math.round(gap / 1000)} s after the one before (DIGEST_MINUTES=1)`);
  }
  const entries = digests.flatMap((m) => [...(m.text ?? '').matchAll(/^(ABU-\d{6}) · .* · TAM briefing/gm)].map((x) => x[1]));
  t.equal(entries.length, 50, 'each briefing listed once across the digests');
  t.match(digests[0]!.text, /Report the fix: http:\/\/127\.0\.0\.1:\d+\/resolve\/\S+/, 'with the resolution link');
  t.match(digests[0]!.text, /Ticket: http:\/\/127\.0\.0\.1:\d+\/ui\/tickets\/ABU-\d{6}/, 'and the ticket page');

  // The TAM prefers phone: one digest call per period, saying how many tickets wait.
  // The database and the stand-in are read at a moment when they agree: no carrier is being dialled (pending or
  // dispatching), and the database is the same before and after the stand-in is read — a digest call can be
  // claimed at any moment, and a count from one read set against a list from another would race it.
  type Row = { outcome: string | null; status: string; digest_id: string | null };
  const tamCalls = () => query<Row>(w.svc.databaseUrl!, `select id, outcome, status, digest_id from contact_attempts where kind = 'tam_call' order by id`);
  let calls: Row[] = [];
  let tomCalls: ReturnType<typeof creates> = [];
  await waitUntil(async () => {
    const before = await tamCalls();
    tomCalls = creates(w.standin).filter((r) => r.params['To'] === TAM.phone);
    calls = await tamCalls();
    return JSON.stringify(before) === JSON.stringify(calls) && !calls.some((c) => c.status === 'pending' || c.status === 'dispatching');
  }, { timeoutMs: 30_000, intervalMs: 250, message: 'the TAM calls never settled (a digest call stayed pending or dispatching)' });
  t.ok(tomCalls.length >= 1 && tomCalls.length <= digests.length, `one call per digest period at most (${tomCalls.length} calls, ${digests.length} digests)`);
  for (let i = 1; i < tomCalls.length; i++) t.ok(tomCalls[i]!.at.getTime() - tomCalls[i - 1]!.at.getTime() >= 59_000, 'digest calls a period apart');
  t.equal(calls.length, 50, 'fifty TAM calls were planned');
  t.ok(calls.every((c) => c.digest_id), 'every one went into a digest');
  t.equal(calls.filter((c) => c.outcome === 'digested').length, 50 - tomCalls.length - calls.filter((c) => c.status === 'held').length, 'all but the carriers (and those still waiting) done as digested');

  // Each tenant's own contact still gets its ticket's own messages: a follow-up and a final notice each.
  for (const [i, id] of ids.entries()) {
    const own = w.sink.messages.filter((m) => m.envelopeTo.includes(`ops@${id}.example`));
    if (own.length !== 2 || !own.every((m) => (m.subject ?? '').startsWith(`[${numbers[i]}] `))) t.fail(`tenant ${id}: ${own.map((m) => m.subject).join(' | ')}`);
  }
  t.pass('every tenant contact got its own follow-up and final notice');
});
