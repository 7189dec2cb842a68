// Counting verdicts (SPEC §4, §5): each (tenant, message) once, into per-minute buckets of event time, and a
// ticket when a tenant's window crosses its policy — the default, or its override while that lasts.
import type { Verdict } from '@abuse-desk/contracts';
import { verdictBurst } from '@abuse-desk/testkit';
import { sql } from 'kysely';
import t from 'tap';
import type { Db } from './connect.js';
import { KnownTenants, bucketsBetween, countVerdicts, dedupeKey } from './counting.js';
import { COUNTS_FILLFACTOR } from './partitions.js';
import { setOverride } from './policies.js';
import type { Evidence } from './schema.js';
import { getTenant, listContacts, upsertTenant } from './tenants.js';
import { ENGINES, openTestDb } from './testing.js';

const TIMEOUT_SECONDS = 3600;
const MINUTE = 60_000;
const NOW = new Date('2026-11-22T10:15:00.000Z');
/** Half a minute into the 10:14 bucket. */
const AT = new Date('2026-11-22T10:14:30.000Z');
const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * MINUTE);

/** `n` verdicts of one kind for a tenant at one instant, each with its own messageId (testkit's burst). */
const verdicts = (tenantId: string, n: number, o: { verdict?: Verdict['verdict']; at: Date | string; sender?: string }): Verdict[] =>
  verdictBurst(tenantId, n, { at: new Date(o.at), ...(o.verdict ? { verdict: o.verdict } : {}), ...(o.sender ? { sender: o.sender } : {}) });

const count = (db: Db, batch: Verdict[], now = NOW) =>
  db.transaction().execute((trx) => countVerdicts(trx, batch, { now, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'counter', destinations: ['kafka', 'webhook'], dedupeWindowSeconds: 3600 }));

const ticketsOf = (db: Db, tenantId: string) => db.selectFrom('tickets').selectAll().where('tenant_id', '=', tenantId).orderBy('opened_at').execute();

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    t.test('a verdict seen twice, in one batch or in a later one, is counted once', async (t) => {
      const [a, b, c] = verdicts('twice', 3, { at: AT });
      t.match(await count(db, [a!, a!, b!]), { accepted: 2, duplicates: 1 });
      t.match(await count(db, [b!, c!, { ...a!, verdict: 'clean' }]), { accepted: 1, duplicates: 2 }, 'a repeat with another verdict is still a repeat');
      t.same(await bucketsBetween(db, 'twice', minutesAfter(AT, -60), NOW), [{ bucketStart: '2026-11-22T10:14:00.000Z', spam: 3, phish: 0, virus: 0, clean: 0, complaint: 0 }]);
      const keys = await db.selectFrom('verdict_seen').select('key').where('key', 'in', [a!, b!, c!].map((v) => dedupeKey(v.tenantId, v.messageId))).execute();
      t.equal(keys.length, 3, 'one fixed-size key per message, and the first verdict of a message is the one counted');
    });

    t.test('counts land in the minute bucket of the time the mail was sent, not of its arrival', async (t) => {
      await count(
        db,
        [
          ...verdicts('event-time', 1, { at: '2026-11-22T09:59:59.999Z', verdict: 'virus' }),
          ...verdicts('event-time', 2, { at: '2026-11-22T10:03:59.999Z' }),
          ...verdicts('event-time', 1, { at: '2026-11-22T10:04:00.000Z', verdict: 'phish' }),
          ...verdicts('event-time', 1, { at: '2026-11-22T12:04:30+02:00', verdict: 'clean' }),
        ],
        minutesAfter(NOW, 45),
      );
      t.same(await bucketsBetween(db, 'event-time', new Date('2026-11-22T10:00:00Z'), new Date('2026-11-22T10:05:00Z')), [
        { bucketStart: '2026-11-22T10:03:00.000Z', spam: 2, phish: 0, virus: 0, clean: 0, complaint: 0 },
        { bucketStart: '2026-11-22T10:04:00.000Z', spam: 0, phish: 1, virus: 0, clean: 1, complaint: 0 },
      ]);
      t.same(
        (await bucketsBetween(db, 'event-time', new Date('2026-11-22T09:59:30Z'), new Date('2026-11-22T10:04:00Z'))).map((b) => b.bucketStart),
        ['2026-11-22T09:59:00.000Z', '2026-11-22T10:03:00.000Z'],
        'from takes in the bucket it falls in; to is exclusive',
      );
      t.same(await bucketsBetween(db, 'nobody', new Date('2026-11-22T09:00:00Z'), NOW), [], 'a tenant never seen has no buckets');
    });

    t.test('a tenant seen for the first time is created, with no contacts and outbound enabled', async (t) => {
      await count(db, verdicts('newcomer', 1, { at: AT, verdict: 'clean' }));
      t.match(await getTenant(db, 'newcomer'), { id: 'newcomer', name: 'newcomer', outbound_enabled: true, outbound_ticket_id: null });
      t.same(await listContacts(db, 'newcomer'), []);
      await upsertTenant(db, 'known', { name: 'Known Mail Ltd' }, NOW);
      await count(db, verdicts('known', 1, { at: AT, verdict: 'clean' }));
      t.match(await getTenant(db, 'known'), { name: 'Known Mail Ltd' }, 'a known tenant is left as it was');
    });

    t.test('a process that knows its tenants upserts only the new ones, and learns them from the result', async (t) => {
      const known = new KnownTenants();
      const countKnown = (batch: Verdict[]) =>
        db.transaction().execute((trx) => countVerdicts(trx, batch, { now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'counter', destinations: ['kafka'], dedupeWindowSeconds: 3600, knownTenants: known }));
      const first = await countKnown([...verdicts('kt-b', 1, { at: AT, verdict: 'clean' }), ...verdicts('kt-a', 2, { at: AT, verdict: 'clean' })]);
      t.same(first.newTenants, ['kt-a', 'kt-b'], 'every tenant of the first batch is new, once each, sorted');
      known.addAll(first.newTenants);
      // A tenant the process wrongly believes known is not created: the cache is only ever filled from committed batches.
      known.addAll(['kt-ghost']);
      const second = await countKnown([...verdicts('kt-a', 1, { at: AT, verdict: 'clean' }), ...verdicts('kt-c', 1, { at: AT, verdict: 'clean' }), ...verdicts('kt-ghost', 1, { at: AT, verdict: 'clean' })]);
      t.same(second.newTenants, ['kt-c']);
      t.ok(await getTenant(db, 'kt-c'), 'the new tenant was created');
      t.notOk(await getTenant(db, 'kt-ghost'), 'a tenant taken as known is not upserted again');
      t.equal(second.accepted, 3, 'its verdicts are counted all the same');
      const small = new KnownTenants(3);
      small.addAll(['a', 'b', 'c']);
      small.addAll(['d']);
      t.same([small.size, small.has('a'), small.has('d')], [1, false, true], 'past its limit the set starts again empty');
    });

    t.test('counts partitions leave room on each page for in-place updates (fillfactor)', async (t) => {
      await count(db, verdicts('fill', 1, { at: AT, verdict: 'clean' }));
      const rows = await sql<{ name: string; options: string[] | null }>`
        select c.relname as name, c.reloptions as options from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass('counts')`.execute(db);
      t.ok(rows.rows.length > 0);
      for (const r of rows.rows) t.same(r.options, [`fillfactor=${COUNTS_FILLFACTOR}`], r.name);
    });

    t.test('a tenant trips at exactly minSpam with the ratio met, and not one verdict below', async (t) => {
      const below = await count(db, [...verdicts('edge', 30, { at: AT }), ...verdicts('edge', 19, { at: AT, verdict: 'phish' }), ...verdicts('edge', 100, { at: AT, verdict: 'clean' })]);
      t.same(below.opened, [], '49 spam and phish open nothing');
      t.same(await ticketsOf(db, 'edge'), []);

      const at = await count(db, verdicts('edge', 1, { at: AT, verdict: 'phish' }));
      t.equal(at.opened.length, 1, 'the 50th opens a ticket');
      const [ticket] = await ticketsOf(db, 'edge');
      t.match(ticket, { number: at.opened[0], rule: 'spam', severity: 'normal', trip_count: 1 });
      t.match(ticket!.evidence, { counts: { spam: 30, phish: 20, virus: 0, clean: 100 }, total: 150, ratio: 50 / 150 });
    });

    t.test('clean verdicts dilute the ratio: a tenant just below minSpamRatio does not trip', async (t) => {
      const diluted = await count(db, [...verdicts('diluted', 951, { at: AT, verdict: 'clean' }), ...verdicts('diluted', 50, { at: AT })]);
      t.same(diluted.opened, [], '50 of 1001 is under 5 %');
      t.same(await ticketsOf(db, 'diluted'), []);

      const exact = await count(db, [...verdicts('five-percent', 950, { at: AT, verdict: 'clean' }), ...verdicts('five-percent', 50, { at: AT })]);
      t.equal(exact.opened.length, 1, '50 of 1000 is exactly 5 %');
      t.match((await ticketsOf(db, 'five-percent'))[0]!.evidence, { ratio: 0.05, total: 1000 });

      await count(db, verdicts('earlier-clean', 1000, { at: minutesAfter(AT, -5), verdict: 'clean' }));
      t.same((await count(db, verdicts('earlier-clean', 50, { at: AT }))).opened, [], 'clean mail counted earlier in the window dilutes too');
    });

    t.test('spam spread over more than the window does not trip', async (t) => {
      await count(db, verdicts('spread', 30, { at: minutesAfter(AT, -10) }));
      const r = await count(db, verdicts('spread', 30, { at: AT }));
      t.same(r.opened, [], 'the first 30 fell out of the ten-minute window');
      t.same(await ticketsOf(db, 'spread'), []);
    });

    t.test('a burst trips even when the same batch also carries a later verdict', async (t) => {
      // The same 60 spam trip the tenant on their own; batched with one spam half an hour later (an hourly
      // upload, a consumer catching up) they are never looked at, because only the window of 10:30 is checked.
      const r = await count(db, [...verdicts('late-batch', 60, { at: minutesAfter(AT, -14) }), ...verdicts('late-batch', 1, { at: minutesAfter(AT, 16) })], minutesAfter(NOW, 20));
      t.equal(r.opened.length, 1, 'the batch opens a ticket');
      t.equal((await ticketsOf(db, 'late-batch')).length, 1, 'the tenant has a ticket');
    });

    t.test('virus verdicts within the critical window open a critical ticket', async (t) => {
      const r = await count(db, [...verdicts('infected', 5, { at: AT, verdict: 'virus', sender: 'scan@infected.example' }), ...verdicts('infected', 15, { at: AT, verdict: 'clean' })]);
      t.equal(r.opened.length, 1);
      const [ticket] = await ticketsOf(db, 'infected');
      t.match(ticket, { rule: 'virus', severity: 'critical' });
      t.same(ticket!.evidence, {
        rule: 'virus',
        windowSeconds: 300,
        windowStart: '2026-11-22T10:10:00.000Z',
        windowEnd: '2026-11-22T10:15:00.000Z',
        counts: { spam: 0, phish: 0, virus: 5, clean: 15 },
        total: 20,
        ratio: 0.25,
        thresholds: { minVirus: 5 },
        topSenders: [{ sender: 'scan@infected.example', count: 5 }],
      } satisfies Evidence);

      t.same((await count(db, verdicts('four-viruses', 4, { at: AT, verdict: 'virus' }))).opened, [], 'four are one short');
      await count(db, verdicts('slow-virus', 3, { at: minutesAfter(AT, -6), verdict: 'virus' }));
      t.same((await count(db, verdicts('slow-virus', 2, { at: AT, verdict: 'virus' }))).opened, [], 'five viruses over six minutes are not five within the critical window');
    });

    t.test('a second trip adds to the open ticket instead of opening another', async (t) => {
      const first = await count(db, verdicts('again', 60, { at: AT }));
      t.equal(first.opened.length, 1);
      const later = minutesAfter(NOW, 1);
      const second = await count(db, verdicts('again', 5, { at: minutesAfter(AT, 1) }), later);
      t.match(second, { accepted: 5, duplicates: 0 });
      t.same([second.opened, second.updated], [[], first.opened], 'the batch reports the ticket it added to, and opened none');
      const tickets = await ticketsOf(db, 'again');
      t.equal(tickets.length, 1, 'still one ticket');
      t.match(tickets[0], { number: first.opened[0], trip_count: 2, last_trip_at: later, opened_at: NOW });
      t.match(tickets[0]!.evidence, { counts: { spam: 65 } }, 'the evidence is brought up to date');
    });

    // PGlite runs one transaction at a time, so a race cannot happen there: these run on PostgreSQL only.
    const concurrent = { skip: engine === 'pglite' ? 'PGlite serialises transactions: no race to observe' : false };
    t.test('two transactions tripping the same tenant at once leave exactly one open ticket', concurrent, async (t) => {
      await upsertTenant(db, 'racing', { name: 'Racing Mail' }, NOW);
      const results = await Promise.all([count(db, verdicts('racing', 60, { at: minutesAfter(AT, -1) })), count(db, verdicts('racing', 60, { at: AT }))]);
      t.equal(results.flatMap((r) => r.opened).length, 1, 'one of them opened the ticket');
      t.same(results.flatMap((r) => r.updated), results.flatMap((r) => r.opened), 'the other added its trip to it');
      const tickets = await ticketsOf(db, 'racing');
      t.equal(tickets.length, 1);
      t.match(tickets[0], { trip_count: 2, closed_at: null });
      t.same(await bucketsBetween(db, 'racing', minutesAfter(AT, -10), NOW), [
        { bucketStart: '2026-11-22T10:13:00.000Z', spam: 60, phish: 0, virus: 0, clean: 0, complaint: 0 },
        { bucketStart: '2026-11-22T10:14:00.000Z', spam: 60, phish: 0, virus: 0, clean: 0, complaint: 0 },
      ]);
    });

    t.test('two concurrent batches that cross minSpam only together still trip the tenant', concurrent, async (t) => {
      await upsertTenant(db, 'halves', { name: 'Halves Mail' }, NOW);
      // Each transaction waits, before it commits, until the other has counted too.
      let counted = 0;
      let bothCounted!: () => void;
      const both = new Promise<void>((resolve) => (bothCounted = resolve));
      const half = (at: Date) =>
        db.transaction().execute(async (trx) => {
          const r = await countVerdicts(trx, verdicts('halves', 30, { at }), { now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'counter', destinations: ['kafka', 'webhook'], dedupeWindowSeconds: 3600 });
          if (++counted === 2) bothCounted();
          await Promise.race([both, new Promise((resolve) => setTimeout(resolve, 300))]);
          return r;
        });
      const results = await Promise.all([half(minutesAfter(AT, -1)), half(AT)]);
      t.same((await bucketsBetween(db, 'halves', minutesAfter(AT, -10), NOW)).map((b) => b.spam), [30, 30], '60 spam within ten minutes');
      t.equal(results.flatMap((r) => r.opened).length, 1, 'the batch that commits second opens the ticket');
      t.equal((await ticketsOf(db, 'halves')).length, 1, 'the tenant has a ticket');
    });

    t.test('the evidence holds the counts, ratio and window, and the top senders by count', async (t) => {
      const r = await count(db, [
        ...verdicts('evident', 20, { at: minutesAfter(AT, -4), sender: 'billing@evident.example' }),
        ...verdicts('evident', 10, { at: AT, sender: 'billing@evident.example' }),
        ...verdicts('evident', 20, { at: AT, verdict: 'phish', sender: 'it@evident.example' }),
        ...verdicts('evident', 5, { at: AT, sender: 'news@evident.example' }),
        ...verdicts('evident', 10, { at: AT, verdict: 'phish', sender: 'news@evident.example' }),
        ...verdicts('evident', 3, { at: AT }),
        ...verdicts('evident', 25, { at: AT, verdict: 'clean', sender: 'hello@evident.example' }),
        ...verdicts('evident', 40, { at: minutesAfter(AT, -11), sender: 'old@evident.example' }),
      ]);
      t.equal(r.opened.length, 1);
      const [ticket] = await ticketsOf(db, 'evident');
      t.same(ticket!.evidence, {
        rule: 'spam',
        windowSeconds: 600,
        windowStart: '2026-11-22T10:05:00.000Z',
        windowEnd: '2026-11-22T10:15:00.000Z',
        counts: { spam: 38, phish: 30, virus: 0, clean: 25 },
        total: 93,
        ratio: 68 / 93,
        thresholds: { minSpam: 50, minSpamRatio: 0.05 },
        topSenders: [
          { sender: 'billing@evident.example', count: 30 },
          { sender: 'it@evident.example', count: 20 },
          { sender: 'news@evident.example', count: 15 },
        ],
      } satisfies Evidence);
    });

    t.test('a spam run from random sender addresses keeps at most eleven sender entries per minute, and the evidence still names the one that sent most', async (t) => {
      const minute = minutesAfter(AT, -2);
      const entries: number[] = [];
      for (let batch = 0; batch < 4; batch++) {
        await count(db, [
          ...verdicts('botnet', 10, { at: minute, sender: 'bulk@botnet.example' }),
          ...verdicts('botnet', 200, { at: minute }).map((v, i) => ({ ...v, sender: `r${batch}-${i}@random.example` })),
          ...verdicts('botnet', 30, { at: minute, verdict: 'clean', sender: 'billing@botnet.example' }),
        ]);
        const [stored] = await db.selectFrom('counts').select('senders').where('tenant_id', '=', 'botnet').execute();
        entries.push(Object.keys(stored!.senders!).length);
      }
      t.same(entries, [11, 11, 11, 11], 'ten senders by name and one entry for the rest, after every batch');
      const [row] = await db.selectFrom('counts').select(['spam', 'clean', 'senders']).where('tenant_id', '=', 'botnet').execute();
      const tallied = Object.values(row!.senders!).reduce((n, [bad, virus, clean]) => n + bad + virus + clean, 0);
      t.equal(tallied, row!.spam, 'every spam verdict is in the tallies; clean mail is not, without a surge rule to need it');
      const [ticket] = await ticketsOf(db, 'botnet');
      t.same((ticket!.evidence as Evidence).topSenders[0], { sender: 'bulk@botnet.example', count: 40 });
      t.notOk((ticket!.evidence as Evidence).topSenders.some((s) => s.sender === '' || s.sender === 'billing@botnet.example'), 'neither the folded rest nor a clean-only sender is spam evidence');
    });

    t.test("a tenant far from every threshold keeps no sender tallies; once its window nears one, its senders are counted", async (t) => {
      const minute = minutesAfter(AT, -3);
      const sendersOf = async () => (await db.selectFrom('counts').select('senders').where('tenant_id', '=', 'quiet').execute())[0]!.senders;
      await count(db, [...verdicts('quiet', 10, { at: minute, sender: 'odd@quiet.example' }), ...verdicts('quiet', 200, { at: minute, verdict: 'clean', sender: 'news@quiet.example' })]);
      t.equal(await sendersOf(), null, '10 spam of 210: under half of minSpam');
      await count(db, verdicts('quiet', 20, { at: minute, sender: 'odd@quiet.example' }));
      t.same(await sendersOf(), { 'odd@quiet.example': [20, 0, 0] }, '30 spam at 13 %: counted from this batch on; clean mail is not, without a surge rule');
      t.same(await ticketsOf(db, 'quiet'), [], 'and nothing tripped');
    });

    t.test('a tenant without contacts gets a ticket that goes straight to awaiting a response', async (t) => {
      const r = await count(db, verdicts('alone', 60, { at: AT }));
      const [ticket] = await ticketsOf(db, 'alone');
      t.match(ticket, { number: r.opened[0], state: 'awaiting_response', no_contacts: true, deadline_at: new Date(NOW.getTime() + TIMEOUT_SECONDS * 1000) });
      const events = await db.selectFrom('ticket_events').select(['seq', 'type', 'from_state', 'to_state', 'reason']).where('ticket_id', '=', ticket!.id).orderBy('seq').execute();
      t.same(events, [
        { seq: 1, type: 'opened', from_state: null, to_state: 'notifying', reason: 'spam rule tripped' },
        { seq: 2, type: 'walk_exhausted', from_state: 'notifying', to_state: 'awaiting_response', reason: 'the tenant has no contacts' },
      ]);
      t.same(await db.selectFrom('contact_attempts').select('id').where('ticket_id', '=', ticket!.id).execute(), [], 'there is nobody to call or email');
    });

    t.test('a tenant override with a lower minSpam applies until it expires', async (t) => {
      for (const id of ['watched', 'lapsed', 'plain']) await upsertTenant(db, id, { name: id }, NOW);
      await setOverride(db, 'watched', { policy: { minSpam: 5 }, reason: 'known to be compromised', expiresAt: minutesAfter(NOW, 60 * 24).toISOString() }, 'agent:dana', NOW);
      await setOverride(db, 'lapsed', { policy: { minSpam: 5 }, reason: 'was compromised last week', expiresAt: minutesAfter(NOW, -1).toISOString() }, 'agent:dana', minutesAfter(NOW, -60 * 24));

      const r = await count(db, [...verdicts('watched', 5, { at: AT }), ...verdicts('lapsed', 5, { at: AT }), ...verdicts('plain', 5, { at: AT })]);
      t.equal(r.opened.length, 1, 'only the tenant under a live override trips');
      t.match((await ticketsOf(db, 'watched'))[0], { number: r.opened[0], evidence: { thresholds: { minSpam: 5, minSpamRatio: 0.05 } } });
      t.same(await ticketsOf(db, 'lapsed'), [], 'an expired override is ignored');
      t.same(await ticketsOf(db, 'plain'), []);
    });
  });
}
