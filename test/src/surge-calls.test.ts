// Many tenants trip at once (issue 14), with several notifier processes over one database: calls stay
// within TWILIO_CALLS_PER_SECOND across all of them, a number is called at most CALLS_PER_NUMBER_PER_HOUR
// times across tickets (the call beyond becomes an email), and a notifier killed while it holds the call
// slot does not stall the queue.
import { waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { query } from './harness.js';
import { addTenants, callsPlacedBy, creates, mostWithin, phone, surgeWorld, tripAll } from './surge-world.js';

const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

t.test('twelve tenants at once, three notifiers, TWILIO_CALLS_PER_SECOND=2: never more than two calls in any second, the queue on /metrics, /readyz green', async (t) => {
  const name = 'surgepace';
  const w = await surgeWorld(t, name, { TWILIO_CALLS_PER_SECOND: '2' }, 3);
  const ids = Array.from({ length: 12 }, (_, i) => `pace${String(i).padStart(2, '0')}`);
  await addTenants(w, ids, (id, i) => [{ name: `Contact ${id}`, phone: phone(5560000, i), email: `ops@${id}.example`, role: 'contact' }]);

  // Watch the api process's /metrics and /readyz while the queue drains.
  const seen: { length: number; oldest: number; ready: number }[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const [metrics, ready] = await Promise.all([fetch(`${w.svc.baseUrl}/metrics`).then((r) => r.text()), fetch(`${w.svc.baseUrl}/readyz`).then((r) => r.status)]);
      seen.push({ length: gauge(metrics, 'abuse_desk_call_queue_length'), oldest: gauge(metrics, 'abuse_desk_call_queue_oldest_seconds'), ready });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const numbers = await tripAll(w, ids);
  t.equal(numbers.length, 12, 'twelve tickets opened by one request');
  await waitUntil(() => creates(w.standin).length >= 12, { timeoutMs: 30_000, message: 'not every first contact was called' });
  // The last call is marked placed a moment after its create: watch until the queue reads empty.
  await waitUntil(() => seen.at(-1)?.length === 0, { message: 'the call queue never read empty' });
  watching = false;
  await watcher;

  const placed = creates(w.standin);
  t.equal(placed.length, 12, 'twelve calls');
  t.equal(new Set(placed.map((r) => r.params['To'])).size, 12, 'one to each tenant’s contact');
  t.ok(mostWithin(placed.map((r) => r.at)) <= 2, `at most 2 calls in any second (most: ${mostWithin(placed.map((r) => r.at))})`);
  const spread = placed.at(-1)!.at.getTime() - placed[0]!.at.getTime();
  t.ok(spread >= 4500, `twelve calls at two a second take at least 5 s (${spread} ms)`);
  // Log lines reach the files a moment after the calls: wait for all twelve.
  const byProcess = await waitUntil(
    () => {
      const n = callsPlacedBy(name, [1, 2, 3]);
      return n.reduce((a, b) => a + b, 0) >= 12 && n;
    },
    { message: 'not every call was logged as placed' },
  );
  t.equal(byProcess.reduce((a, b) => a + b, 0), 12, 'every call logged once, by the notifier that placed it');
  t.ok(byProcess.filter((n) => n > 0).length >= 2, `the calls came from more than one notifier process (${byProcess.join(', ')})`);

  const queued = seen.filter((s) => s.length > 0);
  t.ok(queued.length > 0, 'the api process showed calls waiting');
  t.ok(Math.max(...seen.map((s) => s.length)) >= 5, `at least five were waiting at once (most seen: ${Math.max(...seen.map((s) => s.length))})`);
  t.ok(queued.some((s) => s.oldest > 0), 'the oldest waiting call had an age');
  t.ok(queued.every((s) => s.ready === 200), '/readyz stayed 200 while the queue drained');

  // The walk's clock starts at placement: each call's result is due CALL_RESULT_TIMEOUT_SECONDS (300) after it was placed.
  const rows = await query<{ waited: number; due_after_placed: number }>(
    w.svc.databaseUrl!,
    `select extract(epoch from placed_at - created_at)::float as waited, extract(epoch from due_at - placed_at)::float as due_after_placed
       from contact_attempts where channel = 'voice' and kind = 'call' order by placed_at`,
  );
  t.equal(rows.length, 12);
  t.ok(rows.every((r) => Math.abs(r.due_after_placed - 300) < 2), 'the result timeout runs from when the call was placed');
  t.ok(rows.at(-1)!.waited >= 4, `the last call waited in the queue (${rows.at(-1)!.waited.toFixed(1)} s) and its timeout did not start while it waited`);
});

t.test('a number shared by three tenants is called at most CALLS_PER_NUMBER_PER_HOUR=2 times; the third call is an email, rate-limited on the timeline', async (t) => {
  const w = await surgeWorld(t, 'surgenumber', { TWILIO_CALLS_PER_SECOND: '5', CALLS_PER_NUMBER_PER_HOUR: '2' }, 2);
  const SHARED = '+14155550150';
  const ids = ['resell-a', 'resell-b', 'resell-c'];
  await addTenants(w, ids, (id) => [{ name: 'Reseller Ops', phone: SHARED, email: `ops-${id}@reseller.example`, role: 'contact' }]);
  const numbers = await tripAll(w, ids);
  t.equal(numbers.length, 3);

  const limited = await waitUntil(
    async () => {
      const rows = await query<{ number: string; outcome: string; last_error: string; address: string }>(
        w.svc.databaseUrl!,
        `select t.number, a.outcome, a.last_error, a.address from contact_attempts a join tickets t on t.id = a.ticket_id where a.kind = 'call' and a.outcome = 'rate-limited'`,
      );
      return rows[0];
    },
    { timeoutMs: 20_000, message: 'no call ended rate-limited' },
  );
  t.equal(limited.address, SHARED);
  t.match(limited.last_error, /called 2 times in the last hour \(CALLS_PER_NUMBER_PER_HOUR is 2\)/);
  const tenantOfLimited = ids[numbers.indexOf(limited.number)]!;
  const followups = await w.sink.waitFor((m) => m.envelopeTo.includes(`ops-${tenantOfLimited}@reseller.example`) && (m.subject ?? '').startsWith(`[${limited.number}] `) && !/Final notice/.test(m.subject ?? ''), { timeoutMs: 20_000 });
  t.equal(followups.length, 1, 'the contact of the rate-limited call got the follow-up email instead');
  t.match(followups[0]!.text, /We did not call you about outbound mail from Tenant resell-.: your number has already been called/, 'which does not claim we called');

  const ticket = (await w.api('GET', `/v1/tickets/${limited.number}`)).body;
  const ended = ticket.events.find((e: any) => e.type === 'call.ended' && e.reason === 'rate-limited');
  t.ok(ended, 'the walk timeline records the call as rate-limited');
  t.match(ended.data.detail, /\+14155550150 was called 2 times in the last hour/, 'with the reason');
  t.equal(ticket.state, 'awaiting_response', 'the walk went on (here: to its end, the only contact tried)');

  // The two placed calls are all the number got.
  t.equal(creates(w.standin).filter((r) => r.params['To'] === SHARED).length, 2, 'the shared number was called twice, not three times');
});

t.test('a notifier SIGKILLed while it holds the only call slot does not stall the queue', async (t) => {
  const name = 'surgeslot';
  const w = await surgeWorld(t, name, { TWILIO_CALLS_PER_SECOND: '1' }, 2);
  const ids = ['slot-a', 'slot-b'];
  await addTenants(w, ids, (id, i) => [{ name: `Contact ${id}`, phone: phone(5570000, i), email: `ops@${id}.example`, role: 'contact' }]);
  // The first create is taken by "Twilio" and never answered: its notifier holds the slot while it waits.
  w.standin.failNext('create', 'timeout');
  await tripAll(w, ids);
  await waitUntil(() => creates(w.standin).length >= 1, { timeoutMs: 15_000, message: 'no call was placed' });
  const holder = await waitUntil(async () => (await query<{ locked_by: string }>(w.svc.databaseUrl!, 'select locked_by from call_slots where locked_by is not null'))[0]?.locked_by, { message: 'nobody holds the slot' });
  const pid = Number(holder.split(':')[1]);
  const index = w.svc.pids.indexOf(pid);
  t.ok(index >= 1, `the slot is held by notifier process ${index} (pid ${pid})`);
  const hung = creates(w.standin)[0]!;
  t.equal(creates(w.standin).length, 1, 'the other call waits for the slot');
  const killedAt = Date.now();
  await w.svc.killProcess(index);

  await waitUntil(() => creates(w.standin).length >= 2, { timeoutMs: 20_000, message: 'the queue stalled: the second call was never placed' });
  const next = creates(w.standin)[1]!;
  t.not(next.params['To'], hung.params['To'], 'the next call is the other tenant’s');
  t.ok(next.at.getTime() - killedAt < 3000 + 5000, `placed by the surviving notifier once the slot's lease (3 s) ran out (${next.at.getTime() - killedAt} ms after the kill)`);
  t.ok(next.at.getTime() - hung.at.getTime() >= 1000, 'still at most one call a second');

  // The call the dead notifier was placing is never placed again: it ends unknown and the walk goes on by email.
  const hungNumber = String(hung.params['To']);
  const tenant = ids[Number(hungNumber.slice(-1))]!; // phone(5570000, i) ends in i
  await w.sink.waitFor((m) => m.envelopeTo.includes(`ops@${tenant}.example`), { timeoutMs: 20_000 });
  const outcome = await query<{ outcome: string }>(w.svc.databaseUrl!, `select outcome from contact_attempts where kind = 'call' and address = $1`, [hungNumber]);
  t.same(outcome.map((o) => o.outcome), ['unknown'], 'the hung call ended unknown, once');
  t.equal(creates(w.standin).filter((r) => r.params['To'] === hungNumber).length, 1, 'and was not placed a second time');
});
