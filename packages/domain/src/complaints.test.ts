// Complaint reports (issue 17): the tenant stamp, IP assignments, the complaint rule and its evidence.
import { createHmac } from 'node:crypto';
import t from 'tap';
import {
  DEFAULT_COMPLAINT_RULE,
  assignmentConflicts,
  complaintRate,
  complaintsTrip,
  makeStamp,
  normalizeCidr,
  normalizeIp,
  stampSignedString,
  summarizeComplaints,
  tenantForIp,
  verifyStamp,
} from './complaints.js';
import type { IpAssignment } from './complaints.js';

const SECRET = 'correct horse battery staple';
const MID = '<20260501.abc123@mail.acme.example>';
const T = 1777593600; // 2026-05-01T00:00:00Z
const AT_T = new Date(T * 1000);
const DAY = 86400;

t.test('the stamp signs "<tenantId>.<t>.<Message-ID>" with HMAC-SHA256', async (t) => {
  t.equal(stampSignedString('acme-eu', T, MID), 'acme-eu.1777593600.<20260501.abc123@mail.acme.example>');
  const hex = createHmac('sha256', SECRET).update('acme-eu.1777593600.<20260501.abc123@mail.acme.example>').digest('hex');
  // The same digest from `openssl dgst -sha256 -hmac`, so the vector does not depend on this code alone.
  t.equal(hex, '58f1168ab7072f4f816c64528df71125f928e5ca151420e25b764b0b9ea6e05b');
  t.equal(makeStamp('acme-eu', T, MID, SECRET), `acme-eu; t=1777593600; s=${hex}`);
  t.equal(makeStamp('acme-eu', T, `  ${MID}\r\n`, SECRET), `acme-eu; t=1777593600; s=${hex}`, 'the Message-ID is trimmed as verifyStamp trims it');
});

t.test('a stamp made with makeStamp verifies, also written loosely', async (t) => {
  const stamp = makeStamp('acme-eu', T, MID, SECRET);
  t.same(verifyStamp(stamp, MID, SECRET, AT_T), { ok: true, tenantId: 'acme-eu', t: T });
  t.same(verifyStamp(stamp, ` ${MID} `, SECRET, AT_T), { ok: true, tenantId: 'acme-eu', t: T }, 'Message-ID trimmed');
  const s = stamp.split('s=')[1]!;
  t.same(verifyStamp(`  acme-eu ;s = ${s.toUpperCase()};  t =${T} `, MID, SECRET, AT_T), { ok: true, tenantId: 'acme-eu', t: T }, 'spaces, order s/t, upper-case hex');
  t.same(verifyStamp(`acme-eu;\r\n\tt=${T};\r\n\ts=${s}`, MID, SECRET, AT_T), { ok: true, tenantId: 'acme-eu', t: T }, 'a header folded at the semicolons');
});

t.test('a stamp that does not belong to the message is refused as bad-signature', async (t) => {
  const stamp = makeStamp('acme-eu', T, MID, SECRET);
  const s = stamp.split('s=')[1]!;
  t.same(verifyStamp(stamp.replace('acme-eu', 'acme-us'), MID, SECRET, AT_T), { ok: false, reason: 'bad-signature' }, 'tampered tenant');
  t.same(verifyStamp(stamp.replace(`t=${T}`, `t=${T + 1}`), MID, SECRET, AT_T), { ok: false, reason: 'bad-signature' }, 'tampered time');
  t.same(verifyStamp(stamp, '<other.message@mail.spammer.example>', SECRET, AT_T), { ok: false, reason: 'bad-signature' }, 'the stamp copied onto another message');
  t.same(verifyStamp(stamp, '20260501.abc123@mail.acme.example', SECRET, AT_T), { ok: false, reason: 'bad-signature' }, 'the Message-ID without its angle brackets is another string');
  t.same(verifyStamp(stamp, MID, 'another secret of some length', AT_T), { ok: false, reason: 'bad-signature' }, 'wrong secret');
  const flipped = (s[0] === '0' ? '1' : '0') + s.slice(1);
  t.same(verifyStamp(`acme-eu; t=${T}; s=${flipped}`, MID, SECRET, AT_T), { ok: false, reason: 'bad-signature' }, 'one hex digit changed');
});

t.test('no stamp, a malformed stamp and no Message-ID are told apart', async (t) => {
  const s = makeStamp('acme-eu', T, MID, SECRET).split('s=')[1]!;
  for (const v of [null, '', '   ']) t.same(verifyStamp(v, MID, SECRET, AT_T), { ok: false, reason: 'missing' }, `missing: ${JSON.stringify(v)}`);
  const malformed = [
    'acme-eu',
    `acme-eu; t=${T}`,
    `acme-eu; s=${s}`,
    `acme-eu; t=${T}; s=${s}; x=1`,
    `acme-eu; t=${T}; t=${T}`,
    `acme-eu; t=${T}; s=${s}; t=${T}`,
    `acme-eu; t=${T}; s=${s}; s=${s}`,
    `acme-eu; t = ${T} ; s = ${s} ; ; `,
    `acme-eu; t=${T} s=${s}`,
    `acme-eu; t=${T}; s=${s};`,
    `acme-eu; x=${T}; s=${s}`,
    `acme-eu; t=${T}; s=${s.slice(1)}`,
    `acme-eu; t=${T}; s=${s}0`,
    `acme-eu; t=${T}; s=${'g'.repeat(64)}`,
    `acme-eu; t=-${T}; s=${s}`,
    `acme-eu; t=0${T}; s=${s}`,
    `acme-eu; t=${T}.5; s=${s}`,
    `acme-eu; t=; s=${s}`,
    `; t=${T}; s=${s}`,
    `..; t=${T}; s=${s}`,
    `-acme; t=${T}; s=${s}`,
    `acme/eu; t=${T}; s=${s}`,
    `${'a'.repeat(65)}; t=${T}; s=${s}`,
    `acme eu; t=${T}; s=${s}`,
  ];
  for (const v of malformed) t.same(verifyStamp(v, MID, SECRET, AT_T), { ok: false, reason: 'malformed' }, `malformed: ${v}`);
  t.same(verifyStamp(`${'a'.repeat(64)}; t=${T}; s=${s}`, MID, SECRET, AT_T), { ok: false, reason: 'bad-signature' }, 'a 64-character tenant id is well-formed');
  t.same(verifyStamp(`acme-eu; t=${T}; s=${s}`, null, SECRET, AT_T), { ok: false, reason: 'no-message-id' });
  t.same(verifyStamp(`acme-eu; t=${T}; s=${s}`, ' \t', SECRET, AT_T), { ok: false, reason: 'no-message-id' });
});

t.test('a stamp expires after 90 days and may be at most 5 minutes ahead', async (t) => {
  const stamp = makeStamp('acme-eu', T, MID, SECRET);
  const at = (seconds: number) => new Date((T + seconds) * 1000);
  t.same(verifyStamp(stamp, MID, SECRET, at(90 * DAY)), { ok: true, tenantId: 'acme-eu', t: T }, 'exactly 90 days old');
  t.same(verifyStamp(stamp, MID, SECRET, at(90 * DAY + 1)), { ok: false, reason: 'expired' });
  t.same(verifyStamp(stamp, MID, SECRET, at(3601), { maxAgeSeconds: 3600 }), { ok: false, reason: 'expired' });
  t.same(verifyStamp(stamp, MID, SECRET, at(3600), { maxAgeSeconds: 3600 }), { ok: true, tenantId: 'acme-eu', t: T });
  t.same(verifyStamp(stamp, MID, SECRET, at(-300)), { ok: true, tenantId: 'acme-eu', t: T }, '5 minutes ahead');
  t.same(verifyStamp(stamp, MID, SECRET, at(-301)), { ok: false, reason: 'future' });
  t.same(verifyStamp(stamp, MID, SECRET, at(-20), { maxSkewSeconds: 10 }), { ok: false, reason: 'future' });
  const forgedOld = `acme-eu; t=${T}; s=${'0'.repeat(64)}`;
  t.same(verifyStamp(forgedOld, MID, SECRET, at(200 * DAY)), { ok: false, reason: 'bad-signature' }, 'a forged stamp is not merely expired');
});

t.test('makeStamp refuses what verifyStamp would refuse, and an empty secret', async (t) => {
  t.throws(() => makeStamp('..', T, MID, SECRET));
  t.throws(() => makeStamp('acme eu', T, MID, SECRET));
  t.throws(() => makeStamp('acme', 1.5, MID, SECRET));
  t.throws(() => makeStamp('acme', -1, MID, SECRET));
  t.throws(() => makeStamp('acme', T, '  ', SECRET));
  t.throws(() => makeStamp('acme', T, MID, ''));
  t.throws(() => verifyStamp(makeStamp('acme', T, MID, SECRET), MID, '', AT_T));
});

t.test('normalizeIp gives one spelling per address', async (t) => {
  t.equal(normalizeIp('192.0.2.1'), '192.0.2.1');
  t.equal(normalizeIp(' 192.0.2.1 '), '192.0.2.1');
  t.equal(normalizeIp('[2001:DB8::1]'), '2001:db8::1');
  t.equal(normalizeIp('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  t.equal(normalizeIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first of two equal zero runs is compressed');
  t.equal(normalizeIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
  t.equal(normalizeIp('::'), '::');
  t.equal(normalizeIp('::1'), '::1');
  t.equal(normalizeIp('fe80::'), 'fe80::');
  t.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(normalizeIp('::FFFF:c000:0201'), '192.0.2.1', 'mapped, written in hex');
  t.equal(normalizeIp('64:ff9b::192.0.2.1'), '64:ff9b::c000:201', 'only ::ffff:0:0/96 is IPv4');
  for (const bad of ['', 'example.com', '192.0.2', '192.0.2.256', '01.2.3.4', '2001:db8::1::1', 'fe80::1%eth0', '192.0.2.1/32', '[192.0.2.1'])
    t.equal(normalizeIp(bad), null, `invalid: ${JSON.stringify(bad)}`);
});

t.test('normalizeCidr gives one spelling per range and refuses with a reason', async (t) => {
  t.same(normalizeCidr('192.0.2.7'), { ok: true, cidr: '192.0.2.7/32', family: 4 });
  t.same(normalizeCidr(' 192.0.2.0/24 '), { ok: true, cidr: '192.0.2.0/24', family: 4 });
  t.same(normalizeCidr('0.0.0.0/0'), { ok: true, cidr: '0.0.0.0/0', family: 4 });
  t.same(normalizeCidr('2001:DB8::/32'), { ok: true, cidr: '2001:db8::/32', family: 6 });
  t.same(normalizeCidr('2001:db8::1'), { ok: true, cidr: '2001:db8::1/128', family: 6 });
  t.same(normalizeCidr('[2001:db8:0:0::]/48'), { ok: true, cidr: '2001:db8::/48', family: 6 });
  t.same(normalizeCidr('::ffff:192.0.2.0/120'), { ok: true, cidr: '192.0.2.0/24', family: 4 }, 'IPv4-mapped is IPv4');
  t.same(normalizeCidr('::ffff:192.0.2.9'), { ok: true, cidr: '192.0.2.9/32', family: 4 });
  t.same(normalizeCidr('::/64'), { ok: true, cidr: '::/64', family: 6 });

  t.same(normalizeCidr('192.0.2.1/24'), { ok: false, reason: '192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?' });
  t.same(normalizeCidr('2001:DB8::1/32'), { ok: false, reason: '2001:DB8::1/32 has host bits set; did you mean 2001:db8::/32?' });
  t.same(normalizeCidr('::ffff:192.0.2.1/120'), { ok: false, reason: '::ffff:192.0.2.1/120 has host bits set; did you mean 192.0.2.0/24?' });
  t.same(normalizeCidr('192.0.2.0/33'), { ok: false, reason: 'prefix length /33 is out of range for IPv4 (0–32)' });
  t.same(normalizeCidr('2001:db8::/129'), { ok: false, reason: 'prefix length /129 is out of range for IPv6 (0–128)' });
  for (const bad of ['', 'garbage', 'garbage/24', '192.0.2.0/', '192.0.2.0/-1', '192.0.2.0/024', '192.0.2.0/2 4', '192.0.2.0/24/24', '300.0.2.0/24', '192.0.2.0/1000']) {
    const r = normalizeCidr(bad);
    t.equal(r.ok, false, `refused: ${JSON.stringify(bad)}`);
    if (!r.ok) t.match(r.reason, /\S/, 'with a reason');
  }
  const r = normalizeCidr('garbage/24');
  t.same(r, { ok: false, reason: '"garbage/24" is not an IP address or CIDR range' });
});

const d = (iso: string) => new Date(iso);
const assign = (tenantId: string, cidr: string, validFrom: string | null = null, validUntil: string | null = null): IpAssignment => ({
  tenantId,
  cidr,
  validFrom: validFrom ? d(validFrom) : null,
  validUntil: validUntil ? d(validUntil) : null,
});

t.test('a reassigned IP blames the tenant that had it when the message arrived', async (t) => {
  const list = [assign('tenant-a', '192.0.2.0/24', null, '2026-06-01T00:00:00Z'), assign('tenant-b', '192.0.2.0/24', '2026-06-01T00:00:00Z')];
  t.same(tenantForIp(list, '192.0.2.10', d('2026-05-31T12:00:00Z')), { tenantId: 'tenant-a', cidr: '192.0.2.0/24' });
  t.same(tenantForIp(list, '192.0.2.10', d('2026-06-02T12:00:00Z')), { tenantId: 'tenant-b', cidr: '192.0.2.0/24' });
  t.same(tenantForIp(list, '192.0.2.10', d('2026-06-01T00:00:00Z')), { tenantId: 'tenant-b', cidr: '192.0.2.0/24' }, 'validFrom inclusive, validUntil exclusive');
  t.same(tenantForIp(list, '192.0.2.10', d('2026-05-31T23:59:59.999Z')), { tenantId: 'tenant-a', cidr: '192.0.2.0/24' });
  t.equal(tenantForIp(list, '192.0.3.10', d('2026-05-31T12:00:00Z')), null, 'outside the range');
  const closed = [assign('tenant-c', '198.51.100.0/24', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')];
  t.equal(tenantForIp(closed, '198.51.100.1', d('2025-12-31T23:59:59Z')), null, 'before the period');
  t.equal(tenantForIp(closed, '198.51.100.1', d('2026-02-01T00:00:00Z')), null, 'at its end');
  t.same(tenantForIp(closed, '198.51.100.1', d('2026-01-15T00:00:00Z')), { tenantId: 'tenant-c', cidr: '198.51.100.0/24' });
});

t.test('the most specific range wins and a tie between tenants blames no one', async (t) => {
  const at = d('2026-05-01T00:00:00Z');
  const list = [assign('provider', '192.0.2.0/24'), assign('customer', '192.0.2.7/32'), assign('wide', '192.0.0.0/16')];
  t.same(tenantForIp(list, '192.0.2.7', at), { tenantId: 'customer', cidr: '192.0.2.7/32' });
  t.same(tenantForIp([...list].reverse(), '192.0.2.7', at), { tenantId: 'customer', cidr: '192.0.2.7/32' }, 'whatever the order');
  t.same(tenantForIp(list, '192.0.2.8', at), { tenantId: 'provider', cidr: '192.0.2.0/24' });
  t.same(tenantForIp(list, '192.0.9.1', at), { tenantId: 'wide', cidr: '192.0.0.0/16' });
  t.same(tenantForIp([...list, assign('customer', '192.0.2.7')], '192.0.2.7', at), { tenantId: 'customer', cidr: '192.0.2.7/32' }, 'the same tenant twice is no tie');
  const tie = [...list, assign('other', '192.0.2.7')];
  t.equal(tenantForIp(tie, '192.0.2.7', at), null, 'two tenants with the same /32 at once');
  t.same(tenantForIp(tie, '192.0.2.8', at), { tenantId: 'provider', cidr: '192.0.2.0/24' }, 'the tie does not spill over to other addresses');
  t.same(tenantForIp([assign('broken', '192.0.2.1/24'), assign('provider', '192.0.2.0/24')], '192.0.2.1', at), { tenantId: 'provider', cidr: '192.0.2.0/24' }, 'an unparsable range is ignored');
  t.equal(tenantForIp(list, 'not an ip', at), null);
});

t.test('IPv6 and IPv4-mapped addresses', async (t) => {
  const at = d('2026-05-01T00:00:00Z');
  const list = [assign('v6', '2001:db8:aa::/48'), assign('v6-host', '2001:DB8:AA::25/128'), assign('v4', '192.0.2.0/24')];
  t.same(tenantForIp(list, '2001:db8:aa:1::99', at), { tenantId: 'v6', cidr: '2001:db8:aa::/48' });
  t.same(tenantForIp(list, '[2001:db8:aa:0:0:0:0:25]', at), { tenantId: 'v6-host', cidr: '2001:db8:aa::25/128' });
  t.equal(tenantForIp(list, '2001:db8:ab::1', at), null, 'the next /48');
  t.same(tenantForIp(list, '::ffff:192.0.2.77', at), { tenantId: 'v4', cidr: '192.0.2.0/24' }, 'a mapped address is found in the IPv4 range');
  t.same(tenantForIp([assign('mapped', '::ffff:192.0.2.0/120')], '192.0.2.77', at), { tenantId: 'mapped', cidr: '192.0.2.0/24' }, 'a mapped range holds IPv4 addresses');
  t.equal(tenantForIp([assign('v6-all', '::/0')], '192.0.2.1', at), null, 'an IPv6 range never holds an IPv4 address');
  t.same(tenantForIp([assign('v4-all', '0.0.0.0/0')], '255.255.255.255', at), { tenantId: 'v4-all', cidr: '0.0.0.0/0' });
});

t.test('assignmentConflicts names the same range held by two tenants at once, and duplicates within mine', async (t) => {
  const others = [
    assign('tenant-a', '192.0.2.0/24', null, '2026-06-01T00:00:00Z'),
    assign('tenant-c', '2001:db8::/32'),
    assign('tenant-b', '203.0.113.0/24'), // the list being replaced: not a conflict with itself
  ];
  t.same(assignmentConflicts([assign('tenant-b', '192.0.2.0/24', '2026-06-01T00:00:00Z')], others), [], 'a handover on the boundary does not overlap');
  t.same(assignmentConflicts([assign('tenant-b', '192.0.2.0/24', '2026-05-31T00:00:00Z')], others), [
    "192.0.2.0/24 from 2026-05-31T00:00:00.000Z on overlaps tenant tenant-a's assignment of 192.0.2.0/24 until 2026-06-01T00:00:00.000Z",
  ]);
  t.same(assignmentConflicts([assign('tenant-b', '2001:DB8:0::/32', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')], others), [
    "2001:db8::/32 from 2026-01-01T00:00:00.000Z until 2026-02-01T00:00:00.000Z overlaps tenant tenant-c's assignment of 2001:db8::/32 at all times",
  ], 'compared normalised');
  t.same(assignmentConflicts([assign('tenant-b', '192.0.2.7/32'), assign('tenant-b', '2001:db8:1::/48'), assign('tenant-b', '203.0.113.0/24')], others), [], 'a range inside another is no conflict; nor is my own old list');
  t.same(
    assignmentConflicts(
      [
        assign('tenant-b', '198.51.100.0/24', null, '2026-03-01T00:00:00Z'),
        assign('tenant-b', '198.51.100.0/24', '2026-02-01T00:00:00Z'),
        assign('tenant-b', '198.51.100.0/24', '2026-03-01T00:00:00Z'),
      ],
      [],
    ),
    [
      '198.51.100.0/24 is listed twice for overlapping periods (until 2026-03-01T00:00:00.000Z; from 2026-02-01T00:00:00.000Z on)',
      '198.51.100.0/24 is listed twice for overlapping periods (from 2026-02-01T00:00:00.000Z on; from 2026-03-01T00:00:00.000Z on)',
    ],
  );
  t.same(assignmentConflicts([assign('tenant-b', '192.0.2.7'), assign('tenant-b', '192.0.2.7/32')], []).length, 1, 'a bare address and its /32 are the same range');
});

t.test('complaintRate', async (t) => {
  t.equal(complaintRate(3, 1000), 0.003);
  t.equal(complaintRate(0, 1000), 0);
  t.equal(complaintRate(5, 0), 1);
  t.equal(complaintRate(0, 0), 0);
});

t.test('the complaint rule trips when both the count and the rate are reached', async (t) => {
  const rule = DEFAULT_COMPLAINT_RULE;
  t.same(rule, { windowSeconds: 86400, minComplaints: 20, minComplaintRate: 0.003 });
  const thresholds = { minComplaints: 20, minComplaintRate: 0.003 };
  t.same(complaintsTrip(rule, 30, 10000), { complaints: 30, delivered: 10000, rate: 0.003, thresholds }, 'exactly the rate');
  t.same(complaintsTrip(rule, 20, 1000), { complaints: 20, delivered: 1000, rate: 0.02, thresholds }, 'exactly the count');
  t.equal(complaintsTrip(rule, 19, 1000), null, 'one complaint below the count, whatever the rate');
  t.equal(complaintsTrip(rule, 30, 10001), null, 'just below the rate, whatever the count');
  t.equal(complaintsTrip(rule, 29, 10000), null, 'one complaint below the rate');
  t.same(complaintsTrip(rule, 20, 0), { complaints: 20, delivered: 0, rate: 1, thresholds }, 'nothing delivered: the rate is 1');
  t.equal(complaintsTrip(rule, 19, 0), null, 'nothing delivered still needs the count');
  t.equal(complaintsTrip(rule, 0, 0), null);
  t.equal(complaintsTrip({ windowSeconds: 60, minComplaints: 0, minComplaintRate: 0 }, 0, 100), null, 'never without a complaint');
});

t.test('on probation both thresholds are multiplied by the factor', async (t) => {
  const rule = DEFAULT_COMPLAINT_RULE;
  const thresholds = { minComplaints: 10, minComplaintRate: 0.0015 };
  t.same(complaintsTrip(rule, 15, 10000, 0.5), { complaints: 15, delivered: 10000, rate: 0.0015, thresholds });
  t.same(complaintsTrip(rule, 10, 1000, 0.5), { complaints: 10, delivered: 1000, rate: 0.01, thresholds });
  t.equal(complaintsTrip(rule, 9, 1000, 0.5), null);
  t.equal(complaintsTrip(rule, 14, 10000, 0.5), null);
  t.equal(complaintsTrip(rule, 15, 10000, null), null, 'no probation: the full thresholds');
  t.same(complaintsTrip({ windowSeconds: 60, minComplaints: 3, minComplaintRate: 0.01 }, 1, 100, 0)?.thresholds, { minComplaints: 1, minComplaintRate: 0 }, 'a count threshold never falls below 1');
  t.same(complaintsTrip({ windowSeconds: 60, minComplaints: 7, minComplaintRate: 0.01 }, 3, 100, 0.3)?.thresholds.minComplaints, 3, '7 × 0.3 = 2.1 is rounded up');
  t.equal(complaintsTrip({ windowSeconds: 60, minComplaints: 7, minComplaintRate: 0.01 }, 2, 100, 0.3), null);
});

t.test('summarizeComplaints counts feedback types, ranks senders and subjects, keeps the newest samples', async (t) => {
  const base = Date.parse('2026-05-01T00:00:00Z');
  const reports = Array.from({ length: 8 }, (_, i) => ({
    feedbackType: i === 7 ? 'Fraud' : 'abuse',
    mailFrom: i < 3 ? 'promo@acme.example' : i < 5 ? 'b@acme.example' : i < 7 ? 'a@acme.example' : null,
    subject: i % 2 ? 'Sale' : ' Win ',
    receivedAt: new Date(base + ((i * 5) % 8) * 60_000),
    sourceIp: i === 0 ? null : `192.0.2.${i}`,
    headers: `Message-ID: <m${i}@acme.example>`,
  }));
  const e = summarizeComplaints(reports);
  t.same(e.feedbackTypes, { abuse: 7, fraud: 1 });
  t.same(e.topSenders, [
    { sender: 'promo@acme.example', count: 3 },
    { sender: 'a@acme.example', count: 2 },
    { sender: 'b@acme.example', count: 2 },
  ], 'by count, ties by name, no null sender');
  t.same(e.topSubjects, [
    { subject: 'Sale', count: 4 },
    { subject: 'Win', count: 4 },
  ]);
  // receivedAt minutes by index: 0,5,2,7,4,1,6,3 → newest are indexes 3 (7), 6 (6), 1 (5), 4 (4), 7 (3)
  t.same(
    e.samples.map((s) => s.headers),
    [3, 6, 1, 4, 7].map((i) => `Message-ID: <m${i}@acme.example>`),
    'five samples, newest first',
  );
  t.same(e.samples[4], { feedbackType: 'Fraud', receivedAt: '2026-05-01T00:03:00.000Z', sourceIp: '192.0.2.7', headers: 'Message-ID: <m7@acme.example>' });

  const small = summarizeComplaints(reports, { top: 1, samples: 2 });
  t.same(small.topSenders, [{ sender: 'promo@acme.example', count: 3 }]);
  t.same(small.topSubjects, [{ subject: 'Sale', count: 4 }]);
  t.same(small.samples.map((s) => s.headers), ['Message-ID: <m3@acme.example>', 'Message-ID: <m6@acme.example>']);

  const many = Array.from({ length: 12 }, (_, i) => ({ ...reports[0]!, mailFrom: `s${String(i).padStart(2, '0')}@x.example`, subject: `subject ${String(i).padStart(2, '0')}` }));
  const ten = summarizeComplaints(many);
  t.equal(ten.topSenders.length, 10, 'top 10 senders by default');
  t.equal(ten.topSubjects.length, 10, 'top 10 subjects by default');
  t.equal(ten.topSenders[9]!.sender, 's09@x.example');
  t.same(summarizeComplaints([]), { feedbackTypes: {}, topSenders: [], topSubjects: [], samples: [] });
});
