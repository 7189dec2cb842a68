// Complaint reports (issue 17): which tenant sent a reported message — by the platform's signed
// X-Abuse-Desk-Tenant stamp, else by the report's Source-IP against the tenants' IP assignments — whether a
// tenant's complaints trip the complaint rule, and the evidence a ticket shows. Pure: no I/O.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

// ---------------------------------------------------------------------------------------------------------
// Tenant stamp: `X-Abuse-Desk-Tenant: <tenantId>; t=<unix seconds>; s=<hex HMAC-SHA256>`

/** A tenant id as a stamp may carry it; starting with a letter or digit, it is never `.` or `..`. */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Unix seconds without sign, fraction or leading zero, so one instant has one spelling (and one signature). */
const SECONDS = /^(0|[1-9][0-9]{0,11})$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * 90 days. Feedback loops report days or weeks after delivery (a recipient clicks "spam" when they next read
 * the mail), so a short limit would leave late reports unattributed; the limit still bounds how long a captured
 * stamped message can be re-sent to blame its tenant.
 */
export const DEFAULT_STAMP_MAX_AGE_SECONDS = 90 * 86400;
/** Five minutes of clock difference between the mail platform and abuse-desk; a stamp further ahead is refused. */
export const DEFAULT_STAMP_MAX_SKEW_SECONDS = 300;

/**
 * What the stamp signs. The message's own Message-ID is part of it, so a stamp copied onto other mail (which
 * has another Message-ID) does not verify and does not blame the tenant.
 */
export const stampSignedString = (tenantId: string, t: number, messageId: string) => `${tenantId}.${t}.${messageId}`;

const stampMac = (tenantId: string, t: number, messageId: string, secret: string) => createHmac('sha256', secret).update(stampSignedString(tenantId, t, messageId), 'utf8').digest();

function requireSecret(secret: string) {
  // An empty key would let anyone sign; it is a configuration error, not a property of one report.
  if (!secret) throw new Error('the tenant stamp secret is empty');
}

/**
 * The X-Abuse-Desk-Tenant header value for a message: `<tenantId>; t=<t>; s=<hex>`. `messageId` is the
 * Message-ID header value as written, angle brackets included (it is trimmed, as verifyStamp trims it).
 * Throws on a tenant id, time or Message-ID that verifyStamp would refuse, so no unverifiable stamp is made.
 */
export function makeStamp(tenantId: string, t: number, messageId: string, secret: string): string {
  requireSecret(secret);
  if (!TENANT_ID.test(tenantId)) throw new Error(`not a tenant id for a stamp: ${JSON.stringify(tenantId)}`);
  if (!Number.isSafeInteger(t) || !SECONDS.test(String(t))) throw new Error(`not unix seconds: ${t}`);
  const mid = messageId.trim();
  if (!mid) throw new Error('a stamp needs the Message-ID of its message');
  return `${tenantId}; t=${t}; s=${stampMac(tenantId, t, mid, secret).toString('hex')}`;
}

export type StampCheck = { ok: true; tenantId: string; t: number } | { ok: false; reason: 'missing' | 'malformed' | 'no-message-id' | 'bad-signature' | 'expired' | 'future' };

/** The parts of a stamp, or null when it is not `<tenantId>; t=<seconds>; s=<64 hex>` (t and s in either order). */
function parseStamp(value: string): { tenantId: string; t: number; s: string } | null {
  const [head, ...params] = value.split(';').map((p) => p.trim());
  if (!head || !TENANT_ID.test(head)) return null;
  const found: { t?: string; s?: string } = {};
  for (const p of params) {
    const m = /^([ts])\s*=\s*(\S+)$/.exec(p) as [string, 't' | 's', string] | null;
    if (!m || found[m[1]] !== undefined) return null;
    found[m[1]] = m[2];
  }
  const { t, s } = found;
  if (t === undefined || s === undefined || !SECONDS.test(t) || !HEX_SHA256.test(s)) return null;
  return { tenantId: head, t: Number(t), s };
}

/**
 * Checks an X-Abuse-Desk-Tenant value against the Message-ID of the message that carries it, in this order:
 * present, well-formed, a Message-ID to bind to, signature (before the times, so a forged stamp is never called
 * merely expired), not older than maxAgeSeconds, not further ahead than maxSkewSeconds.
 */
export function verifyStamp(value: string | null, messageId: string | null, secret: string, now: Date, o: { maxAgeSeconds?: number; maxSkewSeconds?: number } = {}): StampCheck {
  requireSecret(secret);
  if (value === null || !value.trim()) return { ok: false, reason: 'missing' };
  const stamp = parseStamp(value.trim());
  if (!stamp) return { ok: false, reason: 'malformed' };
  const mid = messageId?.trim();
  if (!mid) return { ok: false, reason: 'no-message-id' };
  const expected = stampMac(stamp.tenantId, stamp.t, mid, secret);
  const given = Buffer.from(stamp.s, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  const nowSeconds = now.getTime() / 1000;
  if (nowSeconds - stamp.t > (o.maxAgeSeconds ?? DEFAULT_STAMP_MAX_AGE_SECONDS)) return { ok: false, reason: 'expired' };
  if (stamp.t - nowSeconds > (o.maxSkewSeconds ?? DEFAULT_STAMP_MAX_SKEW_SECONDS)) return { ok: false, reason: 'future' };
  return { ok: true, tenantId: stamp.tenantId, t: stamp.t };
}

// ---------------------------------------------------------------------------------------------------------
// IP assignments: CIDR ranges of a tenant, optionally for a period, so a reassigned address blames the tenant
// that had it when the reported message arrived.

/** A tenant's range from validFrom (inclusive) until validUntil (exclusive); null is open on that side. */
export interface IpAssignment {
  tenantId: string;
  cidr: string;
  validFrom: Date | null;
  validUntil: Date | null;
}

interface Addr {
  family: 4 | 6;
  value: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;
const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96
const isMapped = (a: Addr) => a.family === 6 && a.value >> 32n === 0xffffn;

function parseV4(s: string): bigint {
  return s.split('.').reduce((v, octet) => (v << 8n) | BigInt(Number(octet)), 0n);
}

/** An IPv6 address already validated by isIP, possibly with a dotted IPv4 tail, as 128 bits. */
function parseV6(s: string): bigint {
  const groups = (part: string) => {
    if (!part) return [];
    const out: bigint[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseV4(g);
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else out.push(BigInt(parseInt(g, 16)));
    }
    return out;
  };
  const [left, right] = s.split('::') as [string, string | undefined];
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = [...l, ...new Array<bigint>(8 - l.length - r.length).fill(0n), ...r];
  return all.reduce((v, g) => (v << 16n) | g, 0n);
}

/** An address without brackets, zone or whitespace; IPv4-mapped IPv6 stays IPv6 here (callers decide). */
function parseAddr(input: string): Addr | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  // A zone (fe80::1%eth0) names a link of the host that saw it, never a sender on the internet.
  if (s.includes('%')) return null;
  const family = isIP(s);
  if (family === 4) return { family: 4, value: parseV4(s) };
  if (family === 6) return { family: 6, value: parseV6(s) };
  return null;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address: a dual-stack host reports IPv4 peers that way. */
const unmap = (a: Addr): Addr => (isMapped(a) ? { family: 4, value: a.value & 0xffffffffn } : a);

function formatAddr(a: Addr): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((sh) => String((a.value >> sh) & 0xffn)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups (the first of equals) as ::.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The address in its one canonical spelling ('[2001:DB8::1]' → '2001:db8::1', '::ffff:192.0.2.1' → '192.0.2.1'), or null. */
export function normalizeIp(input: string): string | null {
  const a = parseAddr(input);
  return a && formatAddr(unmap(a));
}

interface Net {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const hostMask = (family: 4 | 6, prefix: number) => (1n << BigInt(BITS[family] - prefix)) - 1n;

function parseCidr(input: string): { ok: true; net: Net } | { ok: false; reason: string } {
  const text = input.trim();
  const slash = text.lastIndexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  const addr = parseAddr(addrText);
  if (!addr) return { ok: false, reason: `${JSON.stringify(text)} is not an IP address or CIDR range` };
  if (prefixText !== null && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return { ok: false, reason: `${JSON.stringify(text)} has no valid prefix length after the /` };
  let prefix = prefixText === null ? BITS[addr.family] : Number(prefixText);
  if (prefix > BITS[addr.family]) return { ok: false, reason: `prefix length /${prefix} is out of range for IPv${addr.family} (0–${BITS[addr.family]})` };
  let a = addr;
  // A mapped range that stays within ::ffff:0:0/96 is an IPv4 range, written as one.
  if (isMapped(addr) && prefix >= 96) {
    a = unmap(addr);
    prefix -= 96;
  }
  const mask = hostMask(a.family, prefix);
  if ((a.value & mask) !== 0n) {
    const suggestion = `${formatAddr({ family: a.family, value: a.value & ~mask })}/${prefix}`;
    return { ok: false, reason: `${text} has host bits set; did you mean ${suggestion}?` };
  }
  return { ok: true, net: { family: a.family, network: a.value, prefix } };
}

const formatNet = (n: Net) => `${formatAddr({ family: n.family, value: n.network })}/${n.prefix}`;

/**
 * An address or CIDR range in its canonical spelling: '192.0.2.7' → '192.0.2.7/32', '2001:DB8::/32' →
 * '2001:db8::/32', '::ffff:192.0.2.0/120' → '192.0.2.0/24'. A range with host bits set is refused rather than
 * silently widened: the typo '192.0.2.1/24' would otherwise blame a tenant for 255 addresses it never asked for.
 */
export function normalizeCidr(input: string): { ok: true; cidr: string; family: 4 | 6 } | { ok: false; reason: string } {
  const r = parseCidr(input);
  return r.ok ? { ok: true, cidr: formatNet(r.net), family: r.net.family } : r;
}

const validAt = (a: Pick<IpAssignment, 'validFrom' | 'validUntil'>, at: Date) => (!a.validFrom || a.validFrom.getTime() <= at.getTime()) && (!a.validUntil || at.getTime() < a.validUntil.getTime());

const contains = (n: Net, a: Addr) => n.family === a.family && (a.value & ~hostMask(n.family, n.prefix)) === n.network;

/**
 * The tenant that had `ip` at `at`: among the assignments valid then whose range holds the address, the one
 * with the longest prefix (a provider's /24 and its customer's /32: the customer). Two tenants with the same
 * longest prefix then → null: an ambiguous report blames no one rather than possibly the wrong one.
 * Assignments whose cidr does not parse are ignored.
 */
export function tenantForIp(assignments: IpAssignment[], ip: string, at: Date): { tenantId: string; cidr: string } | null {
  const raw = parseAddr(ip);
  if (!raw) return null;
  const addr = unmap(raw);
  let best: { tenantId: string; net: Net }[] = [];
  for (const a of assignments) {
    if (!validAt(a, at)) continue;
    const p = parseCidr(a.cidr);
    if (!p.ok || !contains(p.net, addr)) continue;
    if (best.length === 0 || p.net.prefix > best[0]!.net.prefix) best = [{ tenantId: a.tenantId, net: p.net }];
    else if (p.net.prefix === best[0]!.net.prefix) best.push({ tenantId: a.tenantId, net: p.net });
  }
  const tenants = new Set(best.map((b) => b.tenantId));
  if (tenants.size !== 1) return null;
  return { tenantId: best[0]!.tenantId, cidr: formatNet(best[0]!.net) };
}

const ms = (d: Date | null, open: number) => (d ? d.getTime() : open);
const overlaps = (a: IpAssignment, b: IpAssignment) =>
  ms(a.validFrom, -Infinity) < ms(b.validUntil, Infinity) && ms(b.validFrom, -Infinity) < ms(a.validUntil, Infinity);

function describePeriod(a: IpAssignment): string {
  if (a.validFrom && a.validUntil) return `from ${a.validFrom.toISOString()} until ${a.validUntil.toISOString()}`;
  if (a.validFrom) return `from ${a.validFrom.toISOString()} on`;
  if (a.validUntil) return `until ${a.validUntil.toISOString()}`;
  return 'at all times';
}

/**
 * Why a tenant's new list of assignments (`mine`, replacing its old list) cannot be stored: each of its ranges
 * that another tenant holds with the same cidr for an overlapping period, and each range listed twice in `mine`
 * for overlapping periods, in words. Only the same cidr conflicts: a range inside another one is how a provider
 * and its customer are told apart (the longer prefix wins), while the same range for two tenants at once would
 * leave tenantForIp ambiguous. Cidrs are compared normalised; ones that do not parse are left to normalizeCidr.
 * Entries of `others` belonging to a tenant of `mine` are ignored (they are the list being replaced).
 */
export function assignmentConflicts(mine: IpAssignment[], others: IpAssignment[]): string[] {
  const norm = (a: IpAssignment) => {
    const n = normalizeCidr(a.cidr);
    return n.ok ? { a, cidr: n.cidr } : null;
  };
  const m = mine.map(norm).filter((x) => x !== null);
  const mineTenants = new Set(mine.map((a) => a.tenantId));
  const o = others.filter((a) => !mineTenants.has(a.tenantId)).map(norm).filter((x) => x !== null);
  const out: string[] = [];
  for (let i = 0; i < m.length; i++) {
    const x = m[i]!;
    for (let j = i + 1; j < m.length; j++) {
      const y = m[j]!;
      if (x.cidr === y.cidr && overlaps(x.a, y.a)) out.push(`${x.cidr} is listed twice for overlapping periods (${describePeriod(x.a)}; ${describePeriod(y.a)})`);
    }
    for (const y of o) {
      if (x.cidr === y.cidr && overlaps(x.a, y.a)) out.push(`${x.cidr} ${describePeriod(x.a)} overlaps tenant ${y.a.tenantId}'s assignment of ${y.cidr} ${describePeriod(y.a)}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Complaint rule

/** Trips when, within windowSeconds, at least minComplaints reports came in AND they are at least minComplaintRate of the delivered volume. */
export interface ComplaintRule {
  windowSeconds: number;
  minComplaints: number;
  minComplaintRate: number;
}

/**
 * The built-in rule. A day, because feedback-loop reports trickle in over hours after a send. 0.3 %, because
 * it is the line Gmail says a sender must never reach (keep below 0.1 %); tripping earlier would flag senders
 * the providers still accept. At least 20 reports, so that a tiny sender (a handful of reports against a few
 * hundred messages) is not tripped by rate alone.
 */
export const DEFAULT_COMPLAINT_RULE: ComplaintRule = { windowSeconds: 86400, minComplaints: 20, minComplaintRate: 0.003 };

/** Complaints per delivered message; with nothing delivered, any complaint is a rate of 1 (all of it). */
export function complaintRate(complaints: number, delivered: number): number {
  if (delivered <= 0) return complaints > 0 ? 1 : 0;
  return complaints / delivered;
}

/**
 * Whether a window's complaints trip the rule: both thresholds reached (>=), and at least one complaint
 * whatever the rule says. On probation both thresholds are multiplied by the factor, as in evaluatePolicy.
 */
export function complaintsTrip(
  rule: ComplaintRule,
  complaints: number,
  delivered: number,
  probationFactor: number | null = null,
): { complaints: number; delivered: number; rate: number; thresholds: { minComplaints: number; minComplaintRate: number } } | null {
  const f = probationFactor;
  const minComplaints = f === null ? rule.minComplaints : Math.max(1, Math.ceil(rule.minComplaints * f));
  const minComplaintRate = f === null ? rule.minComplaintRate : rule.minComplaintRate * f;
  const rate = complaintRate(complaints, delivered);
  if (complaints <= 0 || complaints < minComplaints || rate < minComplaintRate) return null;
  return { complaints, delivered, rate, thresholds: { minComplaints, minComplaintRate } };
}

// ---------------------------------------------------------------------------------------------------------
// Evidence

export interface ComplaintSample {
  feedbackType: string;
  receivedAt: string;
  sourceIp: string | null;
  headers: string;
}

export interface ComplaintEvidence {
  /** Reports per ARF Feedback-Type (lower case: the field is case-insensitive). */
  feedbackTypes: Record<string, number>;
  topSenders: { sender: string; count: number }[];
  topSubjects: { subject: string; count: number }[];
  /** The newest reports, for an agent to read. */
  samples: ComplaintSample[];
}

/** The `top` most frequent values, by count then by name, so the list is stable. Empty values are not counted. */
function topOf(values: (string | null)[], top: number): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const v of values) {
    const s = v?.trim();
    if (s) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, Math.max(0, top))
    .map(([value, count]) => ({ value, count }));
}

/** What the ticket shows of the reports behind a complaint trip: feedback types, top 10 senders and subjects, the 5 newest reports. */
export function summarizeComplaints(
  reports: { feedbackType: string; mailFrom: string | null; subject: string | null; receivedAt: Date; sourceIp: string | null; headers: string }[],
  o: { top?: number; samples?: number } = {},
): ComplaintEvidence {
  const top = o.top ?? 10;
  const feedbackTypes: Record<string, number> = {};
  for (const r of reports) {
    const type = r.feedbackType.trim().toLowerCase() || 'unknown';
    feedbackTypes[type] = (feedbackTypes[type] ?? 0) + 1;
  }
  const samples = reports
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.receivedAt.getTime() - a.r.receivedAt.getTime() || a.i - b.i)
    .slice(0, Math.max(0, o.samples ?? 5))
    .map(({ r }) => ({ feedbackType: r.feedbackType, receivedAt: r.receivedAt.toISOString(), sourceIp: r.sourceIp, headers: r.headers }));
  return {
    feedbackTypes,
    topSenders: topOf(reports.map((r) => r.mailFrom), top).map(({ value, count }) => ({ sender: value, count })),
    topSubjects: topOf(reports.map((r) => r.subject), top).map(({ value, count }) => ({ subject: value, count })),
    samples,
  };
}
