// Complaint reports in the store, on both engines: the IP assignments a report's Source-IP is looked up in
// are only those whose range contains it (through the GiST index), and the conflict check reads only the
// same ranges; retention deletes processed reports older than the cut-off, in bounded batches, and never
// one still waiting to be processed; complaints tripping on an open spam ticket are recorded at most every ten
// minutes.
import { CROSS_TRIP_RECORD_SECONDS, tenantForIp } from '@abuse-desk/domain';
import { sql } from 'kysely';
import t from 'tap';
import { assignmentsOfRanges, coveringQuery, forgetReports, ipAssignmentsCovering, recordComplaint, replaceTenantIps, storeReport } from './complaints.js';
import { upsertTenant } from './tenants.js';
import { ENGINES, openTestDb, storedRows } from './testing.js';
import { TIMEOUT_SECONDS, openTicketFor, ticketRow } from './tickets.fixtures.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const range = (tenantId: string, cidr: string, validFrom: Date | null = null, validUntil: Date | null = null) => ({ tenantId, cidr, validFrom, validUntil, note: null });

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    for (const id of ['provider', 'customer', 'v6', 'former']) await upsertTenant(db, id, { name: id }, NOW);
    await replaceTenantIps(db, 'provider', [range('provider', '198.51.100.0/24'), range('provider', '10.0.0.0/8')], NOW);
    await replaceTenantIps(db, 'customer', [range('customer', '198.51.100.16/28')], NOW);
    await replaceTenantIps(db, 'v6', [range('v6', '2001:db8::/32')], NOW);
    await replaceTenantIps(db, 'former', [range('former', '203.0.113.0/24', null, daysAgo(30))], NOW);

    t.test('a Source-IP is looked up only in the ranges that contain it, and the domain picks the longest', async (t) => {
      const covering = await ipAssignmentsCovering(db, '198.51.100.20');
      t.same(covering.map((a) => `${a.tenantId} ${a.cidr}`).sort(), ['customer 198.51.100.16/28', 'provider 198.51.100.0/24']);
      t.match(tenantForIp(covering, '198.51.100.20', NOW), { tenantId: 'customer', cidr: '198.51.100.16/28' });
      t.same((await ipAssignmentsCovering(db, '198.51.100.200')).map((a) => a.tenantId), ['provider']);
      t.same((await ipAssignmentsCovering(db, '2001:db8:1::25')).map((a) => a.tenantId), ['v6'], 'IPv6 too');
      t.same(await ipAssignmentsCovering(db, '192.0.2.1'), [], 'an address nobody holds finds nothing');
      t.same(await ipAssignmentsCovering(db, '::ffff:c633:6414'), [], 'an IPv6 address never matches an IPv4 range (the domain unmaps mapped ones first)');
      const former = await ipAssignmentsCovering(db, '203.0.113.9');
      t.match(former, [{ tenantId: 'former', validUntil: daysAgo(30) }], 'validity periods come along');
      t.equal(tenantForIp(former, '203.0.113.9', NOW), null, 'and the domain judges them');
      t.match(tenantForIp(former, '203.0.113.9', daysAgo(31)), { tenantId: 'former' });
    });

    t.test('the lookup can use the GiST index on the ranges (the plan, with sequential scans off)', async (t) => {
      const plan = await db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return (await coveringQuery(trx, '198.51.100.20').explain()).map((r) => Object.values(r).join(' ')).join('\n');
      });
      t.match(plan, /tenant_ips_range/, plan);
    });

    t.test('the conflict check reads other tenants’ assignments of the same ranges only', async (t) => {
      t.same((await assignmentsOfRanges(db, ['198.51.100.0/24', '2001:db8::/32'], 'customer')).map((a) => a.tenantId).sort(), ['provider', 'v6']);
      t.same(await assignmentsOfRanges(db, ['198.51.100.0/24'], 'provider'), [], 'the tenant’s own list is being replaced');
      t.same(await assignmentsOfRanges(db, [], 'provider'), []);
    });

    t.test('a complaints ticket shows the headers of the five newest reports and counts over all of them', async (t) => {
      for (let i = 1; i <= 21; i++) {
        const at = new Date(NOW.getTime() + i * 1000);
        const reportId = await storeReport(db, { source: 'api', raw: Buffer.from('x'), envelopeFrom: null, remoteAddress: null, now: at });
        const facts = { reportId, tenantId: 'complained', attributedBy: 'ip' as const, attributionDetail: 'ip', format: 'arf', feedbackType: i % 2 ? 'abuse' : 'fraud', sourceIp: '192.0.2.1', arrivalDate: at, receivedAt: at, messageId: `<c${i}@complained.example>`, mailFrom: 'news@complained.example', subject: `Offer ${i % 3}`, sampleHeaders: `Subject: Offer ${i}` };
        await db.transaction().execute((trx) => recordComplaint(trx, facts, { now: at, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'system:intake', destinations: ['kafka'] }));
      }
      const [ticket] = await storedRows(db, 'tickets', { tenant_id: 'complained' });
      t.match(ticket, { rule: 'complaints', trip_count: 2 });
      const complaints = (ticket!.evidence as { complaints: { count: number; feedbackTypes: Record<string, number>; topSubjects: { subject: string; count: number }[]; samples: { headers: string }[] } }).complaints;
      t.equal(complaints.count, 21);
      t.same(complaints.feedbackTypes, { abuse: 11, fraud: 10 }, 'the feedback types of every report');
      t.same(complaints.topSubjects.map((x) => x.count).reduce((a, b) => a + b, 0), 21, 'the subjects of every report');
      t.same(complaints.samples.map((x) => x.headers), [21, 20, 19, 18, 17].map((i) => `Subject: Offer ${i}`), 'the headers of the five newest, newest first');
    });

    t.test('complaints tripping again and again on an open spam ticket are recorded once per ten minutes, each counted as a trip', async (t) => {
      const { ticket } = await openTicketFor(db, 'spammer', NOW);
      const ctx = { now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'system:intake', destinations: ['kafka'] as const };
      const report = async (i: number, now: Date) => {
        const reportId = await storeReport(db, { source: 'api', raw: Buffer.from('x'), envelopeFrom: null, remoteAddress: null, now });
        const facts = { reportId, tenantId: 'spammer', attributedBy: 'stamp' as const, attributionDetail: 'stamp: valid', format: 'arf', feedbackType: 'abuse', sourceIp: null, arrivalDate: now, receivedAt: now, messageId: `<m${i}@spammer.example>`, mailFrom: 'news@spammer.example', subject: 'Offer', sampleHeaders: null };
        return db.transaction().execute((trx) => recordComplaint(trx, facts, { ...ctx, now }));
      };
      // The default rule: 20 reports in a day (a tenant without verdicts has rate 1); the 20th to 23rd trip.
      for (let i = 1; i <= 23; i++) t.equal((await report(i, new Date(NOW.getTime() + i * 1000))).ticket, i >= 20 ? ticket.number : null, `report ${i}`);
      const tripped = () => storedRows(db, 'ticket_events', { ticket_id: ticket.id, type: 'complaints.tripped' }, 'seq');
      t.equal((await tripped()).length, 1, 'four trips in a minute, one event');
      t.equal((await ticketRow(db, ticket.id)).trip_count, 1 + 4, 'each counted as a trip');
      await report(24, new Date(NOW.getTime() + (CROSS_TRIP_RECORD_SECONDS + 30) * 1000));
      const events = await tripped();
      t.equal(events.length, 2, 'ten minutes later it is recorded again');
      t.match(events[1]!.data, { evidence: { rule: 'complaints', complaints: { count: 24 } } }, 'with the figures of then');
      t.equal((await ticketRow(db, ticket.id)).rule, 'spam', 'the ticket stays a spam ticket');
    });

    t.test('retention deletes processed reports older than the cut-off, in batches, never one still waiting', async (t) => {
      const store = (receivedAt: Date) => storeReport(db, { source: 'api', raw: Buffer.from('x'), envelopeFrom: null, remoteAddress: null, now: receivedAt });
      const old = await Promise.all([100, 99, 98].map((d) => store(daysAgo(d))));
      const waiting = await store(daysAgo(120));
      const recent = await store(daysAgo(10));
      for (const id of [...old, recent]) await db.updateTable('complaint_reports').set({ status: 'done', outcome: 'unattributed', processed_at: NOW }).where('id', '=', id).execute();
      t.equal(await forgetReports(db, daysAgo(90), 2), 2, 'a batch is bounded');
      t.same((await storedRows(db, 'complaint_reports', { id: old[2]! })).length, 1, 'oldest first: the youngest old report is left for the next batch');
      t.equal(await forgetReports(db, daysAgo(90), 2), 1);
      t.equal(await forgetReports(db, daysAgo(90), 2), 0, 'nothing more to delete');
      const left = new Set((await storedRows(db, 'complaint_reports')).map((r) => r.id));
      t.same([...old, waiting, recent].filter((id) => left.has(id)), [waiting, recent], 'a report not yet processed and a recent one are kept');
    });
  });
}
