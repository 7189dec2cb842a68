// Complaint reports (issue 17) into one typed report: ARF (RFC 5965, with RFC 6590 redaction) from mailbox
// providers' feedback loops, and X-ARF 0.2 from abuse reporters. mailparser does the MIME work (parts,
// transfer encodings); what it does not give in order and untouched — the header-like fields of the
// feedback-report part and the header block of the reported message — is unfolded here (RFC 5322 2.2.3).
import { isIPv4, isIPv6 } from 'node:net';
import { MailParser, simpleParser } from 'mailparser';
import type { HeaderLines, HeaderValue, Headers, StructuredHeader } from 'mailparser';

export interface OriginalMessage {
  /** The original message's header fields in order, unfolded: [name as written, value]. */
  headers: [string, string][];
  /** The Message-ID header value exactly as written (including <>), trimmed. */
  messageId: string | null;
  /** The From header value (unfolded, not decoded). */
  from: string | null;
  /** The Subject, RFC 2047 encoded words decoded. */
  subject: string | null;
  /** The raw value of the X-Abuse-Desk-Tenant header, if present (the first one). */
  tenantStamp: string | null;
}

export interface ParsedReport {
  format: 'arf' | 'xarf';
  /**
   * ARF Feedback-Type (abuse, fraud, virus, other, not-spam, auth-failure…), lower-cased. X-ARF: its
   * Category (abuse, fraud, info…), lower-cased — the same vocabulary as ARF's Feedback-Type, where "abuse"
   * is the spam complaint — or its Report-Type when the report has no Category.
   */
  feedbackType: string;
  /** ARF Source-IP / X-ARF Source (when Source-Type is an IP address), normalised: IPv6 lower-case and
   * compressed (RFC 5952), no brackets, an IPv4-mapped IPv6 address as IPv4. null when absent or not an IP. */
  sourceIp: string | null;
  /** ARF Arrival-Date (or Received-Date), X-ARF Date; null when absent or not a date. */
  arrivalDate: Date | null;
  /** ARF Original-Mail-From, angle brackets stripped ("" for the null sender <>). */
  originalMailFrom: string | null;
  /** ARF Original-Rcpt-To values, angle brackets stripped (for redaction). */
  originalRcptTo: string[];
  /** ARF Reported-Domain (the first), lower-cased. */
  reportedDomain: string | null;
  /** ARF / X-ARF User-Agent. */
  userAgent: string | null;
  /** RFC 6590: the report says recipient addresses were redacted (Redacted-Address field present). */
  redacted: boolean;
  /** The reported message (message/rfc822 or text/rfc822-headers part; for X-ARF the attached evidence
   * message), or null if the report has none. */
  original: OriginalMessage | null;
}

export type ParseResult = { ok: true; report: ParsedReport } | { ok: false; reason: string };

const fail = (reason: string): ParseResult => ({ ok: false, reason });

/**
 * Never throws: anything that is not a usable ARF or X-ARF report gives ok:false with a reason a person
 * understands (e.g. "not a multipart/report", "feedback-report part has no Feedback-Type", "X-ARF JSON part
 * is not valid JSON: …", "MIME structure broken: …").
 */
export async function parseReport(raw: Buffer): Promise<ParseResult> {
  try {
    return await parse(raw);
  } catch (err) {
    return fail(`could not parse the report: ${errorText(err)}`);
  }
}

async function parse(raw: Buffer): Promise<ParseResult> {
  if (!(raw instanceof Uint8Array)) return fail('no message: expected the raw bytes of one');
  raw = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  if (raw.every((b) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a)) return fail('empty message');
  let mime: MimeMessage;
  try {
    mime = await splitMime(raw);
  } catch (err) {
    return fail(`MIME structure broken: ${errorText(err)}`);
  }
  if (!mime.headerLines.some((l) => FIELD_NAME.test(l.key))) return fail('not an e-mail message: it does not start with header fields');

  const ct = structured(mime.headers.get('content-type'));
  const type = ct?.value.toLowerCase().trim() || 'text/plain';
  const xarf = firstString(mime.headers.get('x-arf'));
  const xxarf = firstString(mime.headers.get('x-xarf'));
  const isXarf = (xarf !== null && /^\s*yes\b/i.test(xarf)) || (xxarf !== null && xxarf.trim() !== '');

  if (type === 'multipart/report') {
    const reportType = ct?.params['report-type']?.trim().toLowerCase();
    if (reportType && reportType !== 'feedback-report') return fail(`a multipart/report with report-type=${reportType}, not feedback-report`);
    const broken = structureProblem(raw, type, ct, mime.parts);
    if (broken) return fail(broken);
    return parseArf(mime.parts);
  }
  if (isXarf) {
    if (!type.startsWith('multipart/')) return fail(`X-ARF: Yes, but the message is ${type}, not multipart/mixed`);
    const broken = structureProblem(raw, type, ct, mime.parts);
    if (broken) return fail(broken);
    return parseXarf(mime.parts);
  }
  return fail(`not a multipart/report (Content-Type is ${type}) and no X-ARF: Yes header`);
}

// ---------------------------------------------------------------------------------------------------------
// ARF (RFC 5965): text/plain, message/feedback-report, then message/rfc822 or text/rfc822-headers.

const ORIGINAL_TYPES = new Set(['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers']);

async function parseArf(parts: MimePart[]): Promise<ParseResult> {
  const ordered = [...topLevel(parts), ...parts.filter((p) => !isTopLevel(p))];
  const report = ordered.find((p) => p.contentType === 'message/feedback-report');
  if (!report) return fail('the multipart/report has no message/feedback-report part');
  const fields = unfoldFields(decodeText(report.content, report.charset), false);
  const feedbackType = first(fields, 'feedback-type');
  if (!feedbackType) return fail('feedback-report part has no Feedback-Type');
  const originalPart = ordered.find((p) => ORIGINAL_TYPES.has(p.contentType));
  const arrival = all(fields, 'arrival-date').concat(all(fields, 'received-date'));
  return {
    ok: true,
    report: {
      format: 'arf',
      feedbackType: feedbackType.toLowerCase(),
      sourceIp: normaliseIp(first(fields, 'source-ip')),
      arrivalDate: arrival.map(parseDate).find((d) => d !== null) ?? null,
      originalMailFrom: mailbox(first(fields, 'original-mail-from')),
      originalRcptTo: all(fields, 'original-rcpt-to')
        .map(mailbox)
        .filter((a): a is string => !!a),
      reportedDomain: first(fields, 'reported-domain')?.toLowerCase() ?? null,
      userAgent: first(fields, 'user-agent'),
      redacted: fields.some(([n]) => n.toLowerCase() === 'redacted-address'),
      original: originalPart ? await originalMessage(originalPart.content) : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// X-ARF 0.2 (x-arf.org): multipart/mixed with X-ARF: Yes; part 1 human text, part 2 the report (YAML, or
// JSON in the JSON-schema flavour), part 3 (optional) the evidence.

async function parseXarf(parts: MimePart[]): Promise<ParseResult> {
  const top = topLevel(parts);
  const reportPart = top.find((p) => p.partId === '2');
  if (!reportPart) return fail('X-ARF report has no second MIME part with the report');
  const text = decodeText(reportPart.content, reportPart.charset).replace(/^\uFEFF/, '').trim();
  let fields: Map<string, string>;
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return fail(`X-ARF JSON part is not valid JSON: ${errorText(err)}`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('X-ARF JSON part is not a JSON object');
    fields = new Map();
    for (const [k, v] of Object.entries(json)) {
      const key = fieldKey(k);
      if (fields.has(key)) continue;
      if (typeof v === 'string') fields.set(key, v.trim());
      else if (typeof v === 'number' || typeof v === 'boolean') fields.set(key, String(v));
    }
  } else {
    fields = flatYaml(text);
    if (fields.size === 0) return fail('X-ARF report part has no "Key: value" fields');
  }
  const get = (name: string) => {
    const v = fields.get(fieldKey(name));
    return v ? v : null;
  };
  const type = get('Category') ?? get('Report-Type');
  if (!type) return fail('X-ARF report has neither Category nor Report-Type');
  const sourceType = get('Source-Type')?.toLowerCase() ?? null;
  const ipSource = sourceType === null || ['ip-address', 'ip', 'ipv4', 'ipv6', 'ipv4-address', 'ipv6-address'].includes(sourceType);
  const evidence = top.find((p) => p.partId === '3');
  return {
    ok: true,
    report: {
      format: 'xarf',
      feedbackType: type.toLowerCase(),
      sourceIp: ipSource ? normaliseIp(get('Source')) : null,
      arrivalDate: parseDate(get('Date')),
      originalMailFrom: null,
      originalRcptTo: [],
      reportedDomain: null,
      userAgent: get('User-Agent'),
      redacted: false,
      original: evidence && isMessage(evidence) ? await originalMessage(evidence.content) : null,
    },
  };
}

/** Evidence is the reported message when it is one: message/rfc822, or text whose first line starts a header block naming a message field. */
function isMessage(part: MimePart): boolean {
  if (ORIGINAL_TYPES.has(part.contentType)) return true;
  if (!part.contentType.startsWith('text/')) return false;
  const text = decodeText(part.content, part.charset).replace(/^(?:[ \t]*\r?\n)+/, '');
  if (!FIELD_LINE.test(text.split(/\r?\n/, 1)[0] ?? '')) return false;
  const names = new Set(unfoldFields(text, true).map(([n]) => n.toLowerCase()));
  return ['message-id', 'received', 'from', 'return-path'].some((n) => names.has(n));
}

/** "Key: value" lines of a flat YAML mapping; indented lines, lists, comments and document markers are skipped. First key wins. */
function flatYaml(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*))?$/.exec(line);
    if (!m) continue;
    const key = fieldKey(m[1]!);
    if (out.has(key)) continue;
    out.set(key, yamlScalar(m[2] ?? ''));
  }
  return out;
}

function yamlScalar(v: string): string {
  const s = v.trim();
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\(["\\/])/g, '$1');
  return s.replace(/[ \t]+#.*$/, '').trim();
}

/** Report-Type, report_type, reportType → reporttype: the same field however the report spells it. */
const fieldKey = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, '');

// ---------------------------------------------------------------------------------------------------------
// The reported message.

async function originalMessage(content: Buffer): Promise<OriginalMessage | null> {
  // Header fields are ASCII or, per RFC 6532, UTF-8. Only the header section is decoded, not the body.
  const headers = unfoldFields(decodeText(headerSection(content), 'utf-8'), true);
  if (headers.length === 0) return null;
  const get = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
  const subject = get('subject');
  return {
    headers,
    messageId: get('message-id') || null,
    from: get('from'),
    subject: subject === null ? null : await decodeSubject(subject),
    tenantStamp: get('x-abuse-desk-tenant'),
  };
}

/** The bytes up to the first empty line that follows some header text (leading empty lines skipped, as unfoldFields does). */
function headerSection(content: Buffer): Buffer {
  let start = 0;
  while (start < content.length && (content[start] === 0x0d || content[start] === 0x0a)) start++;
  const ends = [content.indexOf('\n\r\n', start), content.indexOf('\n\n', start)].filter((i) => i >= 0);
  return ends.length ? content.subarray(0, Math.min(...ends) + 1) : content;
}

/** RFC 2047 encoded words, decoded by mailparser (charsets included); the value as is when there are none or decoding fails. */
async function decodeSubject(value: string): Promise<string> {
  if (!value.includes('=?')) return value;
  try {
    const mail = await simpleParser(Buffer.from(`Subject: ${value}\r\n\r\n`), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, checksumAlgo: false });
    return typeof mail.subject === 'string' ? mail.subject : value;
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Evidence sample.

const SAMPLE_MAX_FIELDS = 60;
const SAMPLE_MAX_BYTES = 8 * 1024;
const REDACTED = '[redacted]';
/** Fields whose whole value names recipients. */
const RECIPIENT_FIELDS = new Set([
  'to',
  'cc',
  'bcc',
  'delivered-to',
  'x-original-to',
  'envelope-to',
  'x-envelope-to',
  'resent-to',
  'resent-cc',
  'resent-bcc',
  'apparently-to',
  'x-apparently-to',
  'x-rcpt-to',
]);
const ADDRESS = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*/g;

/**
 * The original message's headers as one text block for an evidence sample: recipient addresses redacted
 * (To, Cc, Bcc, Delivered-To, X-Original-To, Envelope-To and similar fields → "[redacted]"; any address from
 * originalRcptTo or from those fields, wherever else it appears — also percent-encoded or VERP-encoded
 * local=domain — → "[redacted]"; the address of a Received field's "for" clause → "[redacted]"), one
 * "Name: value" line per field joined by "\n", at most 60 fields and 8 KB (UTF-8). "" when there is no
 * original message.
 */
export function sampleHeaders(report: ParsedReport): string {
  const headers = report.original?.headers ?? [];
  const recipients = new Set(report.originalRcptTo.map((a) => a.trim()).filter((a) => a.includes('@')));
  for (const [name, value] of headers) {
    if (RECIPIENT_FIELDS.has(name.toLowerCase())) for (const a of value.match(ADDRESS) ?? []) recipients.add(a);
  }
  const patterns = [...recipients].sort((a, b) => b.length - a.length).flatMap(addressPatterns);
  const scrub = (value: string) => patterns.reduce((v, p) => v.replace(p, REDACTED), value);

  const lines: string[] = [];
  for (const [name, value] of headers.slice(0, SAMPLE_MAX_FIELDS)) {
    const lower = name.toLowerCase();
    let v: string;
    if (RECIPIENT_FIELDS.has(lower)) v = REDACTED;
    else {
      v = scrub(value);
      if (lower === 'received') v = v.replace(/(\bfor\s+<?)[^\s<>;]+@[^\s<>;]+/gi, `$1${REDACTED}`);
    }
    lines.push(`${name}: ${v}`);
  }

  let out = '';
  let bytes = 0;
  for (const line of lines) {
    const sep = out ? 1 : 0;
    const size = Buffer.byteLength(line);
    if (bytes + sep + size <= SAMPLE_MAX_BYTES) {
      out += (sep ? '\n' : '') + line;
      bytes += sep + size;
      continue;
    }
    const room = SAMPLE_MAX_BYTES - bytes - sep;
    if (room > 0) out += (sep ? '\n' : '') + truncateUtf8(line, room);
    break;
  }
  return out;
}

function addressPatterns(address: string): RegExp[] {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const patterns = [
    new RegExp(escapeRegExp(address), 'gi'),
    // VERP, as in a bounce address: bounces+local=domain@sender.example
    new RegExp(`${escapeRegExp(local)}=${escapeRegExp(domain)}`, 'gi'),
  ];
  try {
    patterns.push(new RegExp(`${escapeRegExp(encodeURIComponent(local))}%40${escapeRegExp(domain)}`, 'gi')); // in a URL
  } catch {
    // a lone surrogate cannot be percent-encoded, so it is in no URL either
  }
  return patterns;
}

function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s);
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // not inside a multi-byte character
  return buf.subarray(0, end).toString('utf8');
}

// ---------------------------------------------------------------------------------------------------------
// Header fields (RFC 5322 2.2): unfolding is removing each CRLF that comes before WSP.

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const FIELD_LINE = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/;

/**
 * The header fields of a block, in order, unfolded: [name as written, value without the WSP around it].
 * With stopAtBlankLine the block ends at the first empty line after a field (a message's header section);
 * without, empty lines only separate fields (the feedback-report part). Lines that are neither a field nor a
 * continuation (an mbox "From " line, garbage) are skipped.
 */
function unfoldFields(text: string, stopAtBlankLine: boolean): [string, string][] {
  const out: [string, string][] = [];
  let current: [string, string] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') {
      if (stopAtBlankLine && out.length > 0) break;
      current = null;
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (current) current[1] += line;
      continue;
    }
    const m = FIELD_LINE.exec(line);
    if (!m) {
      current = null;
      continue;
    }
    current = [m[1]!, m[2]!];
    out.push(current);
  }
  return out.map(([n, v]) => [n, v.replace(/^[ \t]+|[ \t\r]+$/g, '')]);
}

const all = (fields: [string, string][], name: string) => fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
const first = (fields: [string, string][], name: string) => all(fields, name).find((v) => v !== '') ?? null;

/** <a@b> → a@b; "<>" → "" (the null reverse-path); a bare address as is. */
function mailbox(value: string | null): string | null {
  if (value === null) return null;
  const m = /<([^>]*)>/.exec(value);
  return (m ? m[1]! : value).trim();
}

// ---------------------------------------------------------------------------------------------------------
// IP addresses and dates.

function normaliseIp(value: string | null): string | null {
  if (!value) return null;
  let s = value.trim().split(/[\s,;()]+/)[0] ?? '';
  s = s.replace(/^\[(.*)\]$/, '$1').replace(/^ipv6:/i, '');
  if (isIPv4(s)) return s;
  if (!isIPv6(s)) return null;
  s = s.toLowerCase().replace(/%.*$/, ''); // a zone index means nothing outside the host
  let canonical = s;
  try {
    canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1); // RFC 5952 form
  } catch {
    // keep the lower-cased form
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return canonical;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** RFC 5322 4.3 zone names, and a few that reports use although they are not in it. Military letters are -0000 (unknown) per RFC 5322. */
const ZONES: Record<string, number> = { ut: 0, utc: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420, cet: 60, cest: 120, bst: 60, jst: 540 };

/**
 * An RFC 5322 date-time ("Thu, 8 Mar 2005 14:00:00 EDT", a trailing "(comment)" allowed; no zone read as
 * UTC), an ISO 8601 date or date-time (no offset read as UTC), or the "Feb  3 2014 02:13:35 +0100" some X-ARF
 * generators write. Anything else, or an impossible date, is null.
 */
function parseDate(value: string | null): Date | null {
  if (!value) return null;
  const s = value.trim().replace(/\s*\([^()]*\)\s*$/, '');
  let m = /^(?:[A-Za-z]{3,9},?\s*)?(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{4}|[A-Za-z]{1,5}))?$/.exec(s);
  if (m) return build(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6], undefined, m[7]);
  m = /^([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{4}|[A-Za-z]{1,5}))?$/.exec(s);
  if (m) return build(m[3]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6], undefined, m[7]);
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(s);
  if (m) return build(m[1]!, Number(m[2]), m[3]!, m[4] ?? '0', m[5] ?? '0', m[6], m[7], m[8]);
  return null;
}

function build(yearText: string, month: string | number, dayText: string, hourText: string, minuteText: string, secondText: string | undefined, fraction: string | undefined, zoneText: string | undefined): Date | null {
  let year = Number(yearText);
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 4.3
  else if (yearText.length === 3) year += 1900;
  const monthIndex = typeof month === 'number' ? month - 1 : MONTHS.indexOf(month.slice(0, 3).toLowerCase());
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Math.min(Number(secondText ?? '0'), 59); // a leap second is the last second of its minute
  if (monthIndex < 0 || monthIndex > 11 || day < 1 || hour > 23 || minute > 59 || Number(secondText ?? '0') > 60) return null;
  const offset = zoneOffset(zoneText);
  if (offset === null) return null;
  const ms = fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
  const utc = Date.UTC(year, monthIndex, day, hour, minute, second, ms);
  const check = new Date(Date.UTC(year, monthIndex, day));
  if (check.getUTCMonth() !== monthIndex || check.getUTCDate() !== day) return null; // 31 Feb
  const date = new Date(utc - offset * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Minutes east of UTC; null when the zone is not one we know. */
function zoneOffset(zone: string | undefined): number | null {
  if (!zone) return 0;
  const z = zone.toLowerCase();
  const numeric = /^([+-])(\d{2}):?(\d{2})?$/.exec(z);
  if (numeric) {
    const h = Number(numeric[2]);
    const min = Number(numeric[3] ?? '0');
    if (h > 23 || min > 59) return null;
    return (numeric[1] === '-' ? -1 : 1) * (h * 60 + min);
  }
  if (z in ZONES) return ZONES[z]!;
  if (/^[a-ik-z]$/.test(z)) return 0;
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// MIME, by mailparser.

interface MimePart {
  /** Lower-case media type, e.g. message/feedback-report. */
  contentType: string;
  /** IMAP-style part number: "1", "2", "1.2"; null when the message is not multipart. */
  partId: string | null;
  charset: string | null;
  /** Transfer encoding undone; charset not. */
  content: Buffer;
}

interface MimeMessage {
  headers: Headers;
  headerLines: HeaderLines;
  /** The leaf parts in order (a message/rfc822 part is a leaf: its content is the whole message). */
  parts: MimePart[];
}

/**
 * Every leaf part as an attachment, so each comes whole and on its own. mailparser merges text/plain parts
 * into one text; MailParser decides what is text by its textTypes list, emptied here (mailparser 3.14.2,
 * pinned) — were it gone in some version, text parts would be missing and X-ARF reports fail loudly in the
 * tests. ignoreEmbedded keeps message/rfc822 whole (an "inline" one would otherwise be parsed into its parts).
 */
function splitMime(raw: Buffer): Promise<MimeMessage> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ ignoreEmbedded: true, checksumAlgo: false, skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const internals = parser as unknown as { textTypes?: unknown };
    if (Array.isArray(internals.textTypes)) internals.textTypes = [];
    let headers: Headers = new Map();
    let headerLines: HeaderLines = [];
    const parts: MimePart[] = [];
    const done: Promise<void>[] = [];
    let settled = false;
    const failed = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    parser.on('headers', (h) => {
      headers = h;
    });
    parser.on('headerLines', (l) => {
      headerLines = l;
    });
    parser.on('data', (data) => {
      if (data.type !== 'attachment') return;
      const ct = structured(data.headers.get('content-type'));
      const part: MimePart = { contentType: data.contentType.toLowerCase(), partId: data.partId, charset: ct?.params['charset'] ?? null, content: Buffer.alloc(0) };
      parts.push(part);
      const chunks: Buffer[] = [];
      done.push(
        new Promise<void>((ended) => {
          data.content.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
          data.content.on('error', failed);
          data.content.on('end', () => {
            part.content = Buffer.concat(chunks);
            data.release?.();
            ended();
          });
        }),
      );
    });
    parser.on('error', failed);
    parser.on('end', () => {
      void Promise.all(done).then(() => {
        if (settled) return;
        settled = true;
        resolve({ headers, headerLines, parts });
      });
    });
    parser.end(raw);
  });
}

/** Why a multipart's structure cannot be trusted: no boundary, a boundary that never appears, no closing delimiter. null when sound. */
function structureProblem(raw: Buffer, type: string, ct: StructuredHeader | null, parts: MimePart[]): string | null {
  const boundary = ct?.params['boundary']?.trimEnd();
  if (!boundary) return `MIME structure broken: the ${type} declares no boundary`;
  if (topLevel(parts).length === 0) return `MIME structure broken: the boundary "${boundary}" of the ${type} never appears in the body`;
  const closing = new RegExp(`(?:^|\\n)--${escapeRegExp(boundary)}--[ \\t]*(?:\\r?\\n|$)`);
  if (!closing.test(raw.toString('latin1'))) return `MIME structure broken: the ${type} ends without its closing boundary "--${boundary}--" (truncated?)`;
  return null;
}

const isTopLevel = (p: MimePart) => p.partId !== null && !p.partId.includes('.');
const topLevel = (parts: MimePart[]) => parts.filter(isTopLevel);

function structured(v: HeaderValue | undefined): StructuredHeader | null {
  const one = Array.isArray(v) ? v[0] : v;
  if (one && typeof one === 'object' && 'value' in one && 'params' in one && typeof one.value === 'string') return one as StructuredHeader;
  return null;
}

function firstString(v: HeaderValue | undefined): string | null {
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === 'string' ? one : null;
}

/** A part's text in its declared charset; UTF-8 when the charset is missing or unknown. */
function decodeText(buf: Buffer, charset: string | null): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase() || 'utf-8';
  try {
    return new TextDecoder(label).decode(buf);
  } catch {
    return new TextDecoder('utf-8').decode(buf);
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
