// Complaint report parsing (issue 17): ARF (RFC 5965), redacted ARF (RFC 6590) and X-ARF 0.2 into one typed
// report; anything else refused with a reason; the evidence sample redacted and capped.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseReport, sampleHeaders } from './parse.js';
import type { OriginalMessage, ParsedReport } from './parse.js';

/** What the helpers need of a tap test. */
type Asserts = { fail(message: string): unknown };

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const fixtureText = (name: string) => fixture(name).toString('utf8');

/** Edits a fixture's text and checks the edit happened, so a variant never silently equals its fixture. */
function variant(name: string, edit: (text: string) => string): Buffer {
  const before = fixtureText(name);
  const after = edit(before);
  if (after === before) throw new Error(`the edit of ${name} changed nothing`);
  return Buffer.from(after);
}

async function parsed(t: Asserts, raw: Buffer): Promise<ParsedReport> {
  const r = await parseReport(raw);
  if (!r.ok) {
    t.fail(`expected a report, got ok:false: ${r.reason}`);
    throw new Error(r.reason);
  }
  return r.report;
}

async function refused(t: Asserts, raw: Buffer): Promise<string> {
  const r = await parseReport(raw);
  if (r.ok) {
    t.fail(`expected ok:false, got a ${r.report.format} report`);
    return '';
  }
  return r.reason;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const withoutOriginal = ({ original: _original, ...rest }: ParsedReport) => rest;
const STAMP = 'acme; t=1764500000; s=4097889236a2af26c293033feb964c4cf118c0224e0d063fec0a89e9d0569ef2';

t.test('fixtures', async (t) => {
  t.test('arf-stamped: an ARF abuse report with the full original message carrying a tenant stamp', async (t) => {
    const r = await parsed(t, fixture('arf-stamped.eml'));
    t.same(
      { ...withoutOriginal(r), arrivalDate: iso(r.arrivalDate) },
      {
        format: 'arf',
        feedbackType: 'abuse',
        sourceIp: '192.0.2.25',
        arrivalDate: '2025-11-30T10:53:21.000Z',
        originalMailFrom: 'bounces+7f3a9c-jane.doe=example.net@mail.acme.example',
        originalRcptTo: ['jane.doe@example.net'],
        reportedDomain: 'acme.example',
        userAgent: 'ExampleFBL/3.2',
        redacted: false,
      },
    );
    t.ok(r.original, 'the message/rfc822 part is the original');
    const o = r.original!;
    t.same(
      { messageId: o.messageId, from: o.from, subject: o.subject, tenantStamp: o.tenantStamp },
      {
        messageId: '<20261130.stamped@mail.acme.example>',
        from: '"ACME Offers" <offers@acme.example>',
        subject: 'Your exclusive winter offer ❄',
        tenantStamp: STAMP,
      },
    );
    t.same(
      o.headers.map(([n]) => n),
      ['Return-Path', 'Received', 'X-Abuse-Desk-Tenant', 'DKIM-Signature', 'From', 'To', 'Subject', 'Date', 'Message-ID', 'List-Unsubscribe', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding'],
      'every header field of the original, in order, and none of its body or of the report',
    );
    t.same(
      o.headers[1],
      ['Received', 'from out-3.mail.acme.example (out-3.mail.acme.example [192.0.2.25])\tby mx1.example.net with ESMTPS id 7c1b9e20a4\tfor <jane.doe@example.net>; Sun, 30 Nov 2025 10:53:21 +0000'],
      'a folded field is unfolded: each CRLF before WSP removed, the WSP kept',
    );
    t.same(o.headers[6], ['Subject', '=?UTF-8?Q?Your_exclusive_winter_offer_=E2=9D=84?='], 'headers keep the value as written; subject is the decoded one');
  });

  t.test('arf-headers-only: the third part is text/rfc822-headers', async (t) => {
    const r = await parsed(t, fixture('arf-headers-only.eml'));
    t.same(
      { ...withoutOriginal(r), arrivalDate: iso(r.arrivalDate) },
      {
        format: 'arf',
        feedbackType: 'abuse',
        sourceIp: '198.51.100.7',
        arrivalDate: '2025-12-01T13:15:42.000Z', // Mon, 01 Dec 2025 08:15:42 -0500 (EST)
        originalMailFrom: 'news@globex.example',
        originalRcptTo: ['sam.lee@example.org'],
        reportedDomain: 'globex.example',
        userAgent: 'Example.org-Feedback/2.0',
        redacted: false,
      },
    );
    t.match(r.original, {
      messageId: '<c0ffee.42@mailer.globex.example>',
      from: 'Globex News <news@globex.example>',
      subject: 'Globex weekly: five things you missed',
      tenantStamp: null,
    });
    t.equal(r.original?.headers.length, 9);
    t.same(r.original?.headers[3], ['Cc', '"Pat Kim" <pat.kim@example.org>, robin@example.com']);
  });

  t.test('arf-redacted: an RFC 6590 redacted report', async (t) => {
    const r = await parsed(t, fixture('arf-redacted.eml'));
    t.same(
      { ...withoutOriginal(r), arrivalDate: iso(r.arrivalDate) },
      {
        format: 'arf',
        feedbackType: 'abuse',
        sourceIp: '2001:db8:25::1', // Source-IP: 2001:DB8:25:0:0:0:0:1
        arrivalDate: '2025-11-30T19:40:57.000Z',
        originalMailFrom: 'mailer@news.initrode.example',
        originalRcptTo: ['e3b98a4da31a127d4bde6e43033f66ba@example.com'],
        reportedDomain: 'news.initrode.example',
        userAgent: 'ExampleSComp/1.1',
        redacted: true,
      },
    );
    t.match(r.original, { messageId: '<5f1e.picks.20251130@news.initrode.example>', subject: 'Your December picks', tenantStamp: null });
  });

  t.test('xarf: an X-ARF 0.2 spam report with the evidence message', async (t) => {
    const r = await parsed(t, fixture('xarf.eml'));
    t.same(
      { ...withoutOriginal(r), arrivalDate: iso(r.arrivalDate) },
      {
        format: 'xarf',
        feedbackType: 'abuse', // Category: abuse (Report-Type: spam)
        sourceIp: '203.0.113.9',
        arrivalDate: '2025-11-30T13:02:11.000Z', // Sun, 30 Nov 2025 14:02:11 +0100
        originalMailFrom: null,
        originalRcptTo: [],
        reportedDomain: null,
        userAgent: 'ReporterTrap/1.4',
        redacted: false,
      },
    );
    t.match(r.original, {
      messageId: '<8f2e1c.spam@mailer.initech.example>',
      from: 'Initech Deals <deals@initech.example>',
      subject: 'Last chance: 80% off printers',
      tenantStamp: null,
    });
    t.equal(r.original?.headers.length, 9, 'the evidence message headers only, not the report part');
  });

  t.test('broken-mime: a multipart/report whose boundary never appears', async (t) => {
    t.equal(
      await refused(t, fixture('broken-mime.eml')),
      'MIME structure broken: the boundary "----=_Part_1234_5678.1764519644000" of the multipart/report never appears in the body',
    );
  });

  t.test('not-a-report: a plain text email', async (t) => {
    t.equal(await refused(t, fixture('not-a-report.eml')), 'not a multipart/report (Content-Type is text/plain) and no X-ARF: Yes header');
  });
});

t.test('ARF fields', async (t) => {
  t.test('two Original-Rcpt-To fields give both addresses, in order', async (t) => {
    const r = await parsed(
      t,
      variant('arf-stamped.eml', (s) => s.replace('Original-Rcpt-To: <jane.doe@example.net>\r\n', 'Original-Rcpt-To: <jane.doe@example.net>\r\nOriginal-Rcpt-To: john.roe@example.net\r\n')),
    );
    t.same(r.originalRcptTo, ['jane.doe@example.net', 'john.roe@example.net']);
  });

  t.test('Feedback-Type is read case-insensitively, name and value, and lower-cased', async (t) => {
    const upper = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Feedback-Type: abuse', 'Feedback-Type: ABUSE')));
    t.equal(upper.feedbackType, 'abuse');
    const other = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Feedback-Type: abuse', 'FEEDBACK-TYPE: Not-Spam')));
    t.equal(other.feedbackType, 'not-spam');
  });

  t.test('an invalid Arrival-Date is null, not a failure', async (t) => {
    const words = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Arrival-Date: Sun, 30 Nov 2025 10:53:21 +0000', 'Arrival-Date: sometime last week')));
    t.equal(words.arrivalDate, null);
    t.equal(words.feedbackType, 'abuse', 'the rest of the report is still read');
    const impossible = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Arrival-Date: Sun, 30 Nov 2025 10:53:21 +0000', 'Arrival-Date: Sat, 31 Feb 2025 10:53:21 +0000')));
    t.equal(impossible.arrivalDate, null, '31 February');
    const badZone = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Arrival-Date: Sun, 30 Nov 2025 10:53:21 +0000', 'Arrival-Date: Sun, 30 Nov 2025 10:53:21 +9900')));
    t.equal(badZone.arrivalDate, null, 'an offset of 99 hours');
  });

  t.test('Received-Date stands in for Arrival-Date; RFC 5322 zone names and ISO 8601 are read', async (t) => {
    const received = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Arrival-Date: Sun, 30 Nov 2025 10:53:21 +0000', 'Received-Date: Thu, 8 Mar 2005 14:00:00 EDT')));
    t.equal(iso(received.arrivalDate), '2005-03-08T18:00:00.000Z');
    const isoDate = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Arrival-Date: Sun, 30 Nov 2025 10:53:21 +0000', 'Arrival-Date: 2025-11-30T11:53:21.250+01:00')));
    t.equal(iso(isoDate.arrivalDate), '2025-11-30T10:53:21.250Z');
    const twoDigitYear = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Arrival-Date: Sun, 30 Nov 2025 10:53:21 +0000', 'Arrival-Date: 30 Nov 25 10:53 GMT')));
    t.equal(iso(twoDigitYear.arrivalDate), '2025-11-30T10:53:00.000Z');
  });

  t.test('Source-IP is normalised; one that is not an IP address is null', async (t) => {
    const ip = async (value: string) => (await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Source-IP: 192.0.2.25', `Source-IP: ${value}`)))).sourceIp;
    t.equal(await ip('[192.0.2.25]'), '192.0.2.25');
    t.equal(await ip('[IPv6:2001:DB8::0:25]'), '2001:db8::25');
    t.equal(await ip('::FFFF:192.0.2.25'), '192.0.2.25', 'IPv4-mapped IPv6 is the IPv4 address');
    t.equal(await ip('192.0.2.25 (out-3.mail.acme.example)'), '192.0.2.25', 'a comment after the address');
    t.equal(await ip('out-3.mail.acme.example'), null);
    t.equal(await ip('192.0.2.256'), null);
  });

  t.test('the null reverse-path is an empty Original-Mail-From, an absent one null', async (t) => {
    const nullSender = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Original-Mail-From: <bounces+7f3a9c-jane.doe=example.net@mail.acme.example>', 'Original-Mail-From: <>')));
    t.equal(nullSender.originalMailFrom, '');
    const absent = await parsed(t, variant('arf-stamped.eml', (s) => s.replace('Original-Mail-From: <bounces+7f3a9c-jane.doe=example.net@mail.acme.example>\r\n', '')));
    t.equal(absent.originalMailFrom, null);
  });

  t.test('a report without the third part has no original', async (t) => {
    const r = await parsed(
      t,
      variant('arf-stamped.eml', (s) => s.slice(0, s.indexOf('--part1_13d.2e68ed54_boundary\r\nContent-Type: message/rfc822')) + '--part1_13d.2e68ed54_boundary--\r\n'),
    );
    t.equal(r.original, null);
    t.equal(r.sourceIp, '192.0.2.25');
  });

  t.test('an X-Abuse-Desk-Tenant header folded over two lines is unfolded; the first one counts', async (t) => {
    const r = await parsed(
      t,
      variant('arf-stamped.eml', (s) =>
        s.replace(`X-Abuse-Desk-Tenant: ${STAMP}\r\n`, `X-Abuse-Desk-Tenant: acme; t=1764500000;\r\n s=${'ab'.repeat(32)}\r\nX-Abuse-Desk-Tenant: ${STAMP}\r\n`),
      ),
    );
    t.equal(r.original?.tenantStamp, `acme; t=1764500000; s=${'ab'.repeat(32)}`);
  });
});

t.test('what is refused, and why', async (t) => {
  t.test('an ARF without Feedback-Type', async (t) => {
    t.equal(await refused(t, variant('arf-stamped.eml', (s) => s.replace('Feedback-Type: abuse\r\n', ''))), 'feedback-report part has no Feedback-Type');
    t.equal(await refused(t, variant('arf-stamped.eml', (s) => s.replace('Feedback-Type: abuse\r\n', 'Feedback-Type:\r\n'))), 'feedback-report part has no Feedback-Type', 'an empty one');
  });

  t.test('an ARF without the feedback-report part', async (t) => {
    t.equal(
      await refused(t, variant('arf-stamped.eml', (s) => s.replace('Content-Type: message/feedback-report', 'Content-Type: text/plain'))),
      'the multipart/report has no message/feedback-report part',
    );
  });

  t.test('a multipart/report of another report-type', async (t) => {
    t.equal(
      await refused(t, variant('arf-stamped.eml', (s) => s.replace('report-type=feedback-report', 'report-type=delivery-status'))),
      'a multipart/report with report-type=delivery-status, not feedback-report',
    );
  });

  t.test('a report truncated mid-part', async (t) => {
    const reason = await refused(t, variant('arf-stamped.eml', (s) => s.slice(0, s.indexOf('winter is coming'))));
    t.equal(reason, 'MIME structure broken: the multipart/report ends without its closing boundary "--part1_13d.2e68ed54_boundary--" (truncated?)');
  });

  t.test('a multipart/report without a boundary parameter', async (t) => {
    const reason = await refused(t, variant('arf-stamped.eml', (s) => s.replace(';\r\n\tboundary="part1_13d.2e68ed54_boundary"', '')));
    t.equal(reason, 'MIME structure broken: the multipart/report declares no boundary');
  });

  t.test('input that is not an e-mail message at all', async (t) => {
    t.equal(await refused(t, Buffer.alloc(0)), 'empty message');
    t.equal(await refused(t, Buffer.from('\r\n  \r\n')), 'empty message');
    t.equal(await refused(t, Buffer.from('this is not mail at all\r\njust words\r\n')), 'not an e-mail message: it does not start with header fields');
    t.equal(await refused(t, Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 0])), 'not an e-mail message: it does not start with header fields');
  });
});

t.test('X-ARF', async (t) => {
  const reportPart = (s: string) => {
    const start = s.indexOf('---\r\nReported-From:');
    const end = s.indexOf('\r\n--Abuse-5d0c7e1a', start);
    if (start < 0 || end < 0) throw new Error('the X-ARF fixture has changed');
    return [start, end] as const;
  };
  const withReport = (body: string) =>
    variant('xarf.eml', (s) => {
      const [start, end] = reportPart(s);
      return s.slice(0, start) + body.replace(/\r?\n/g, '\r\n') + s.slice(end);
    });

  t.test('a JSON report part', async (t) => {
    const r = await parsed(
      t,
      withReport(
        JSON.stringify(
          { 'Reported-From': 'abuse-reports@reporter.example', Category: 'Fraud', 'Report-Type': 'phishing', Version: '0.2', 'User-Agent': 'json-reporter 2', Date: '2025-11-30T13:02:11Z', 'Source-Type': 'ip-address', Source: '2001:DB8::9', Port: 25 },
          null,
          2,
        ),
      ),
    );
    t.match(r, { format: 'xarf', feedbackType: 'fraud', sourceIp: '2001:db8::9', userAgent: 'json-reporter 2' });
    t.equal(iso(r.arrivalDate), '2025-11-30T13:02:11.000Z');
    t.equal(r.original?.messageId, '<8f2e1c.spam@mailer.initech.example>');
  });

  t.test('a JSON report part that is not valid JSON', async (t) => {
    const reason = await refused(t, withReport('{ "Category": "abuse", "Source": '));
    t.match(reason, /^X-ARF JSON part is not valid JSON: ./);
  });

  t.test('Report-Type when there is no Category; quoted YAML values; the date some generators write', async (t) => {
    const r = await parsed(
      t,
      withReport(`---
Reported-From: 'abuse-reports@reporter.example'
Report-Type: Spam
Date: Feb  3 2014 02:13:35 +0100
Source-Type: ipv4
Source: "203.0.113.10"
`),
    );
    t.equal(r.feedbackType, 'spam');
    t.equal(r.sourceIp, '203.0.113.10');
    t.equal(iso(r.arrivalDate), '2014-02-03T01:13:35.000Z');
    t.equal(r.userAgent, null);
  });

  t.test('Source is the source IP only when Source-Type says it is an IP address', async (t) => {
    const source = async (type: string, value: string) => (await parsed(t, variant('xarf.eml', (s) => s.replace('Source-Type: ip-address\r\nSource: 203.0.113.9', `Source-Type: ${type}\r\nSource: ${value}`)))).sourceIp;
    t.equal(await source('ipv6', '2001:DB8::9'), '2001:db8::9');
    t.equal(await source('uri', '203.0.113.9'), null);
    t.equal(await source('uri', 'http://203.0.113.9/offer'), null);
  });

  t.test('a report with neither Category nor Report-Type', async (t) => {
    const reason = await refused(t, variant('xarf.eml', (s) => s.replace('Category: abuse\r\nReport-Type: spam\r\n', '')));
    t.equal(reason, 'X-ARF report has neither Category nor Report-Type');
  });

  t.test('evidence that is a log, not a message, gives no original; no evidence part neither', async (t) => {
    const log = await parsed(
      t,
      variant('xarf.eml', (s) =>
        s.replace(
          /Content-Type: message\/rfc822; name="evidence.eml"[\s\S]*?(?=\r\n--Abuse-5d0c7e1a-6b2f-4c8e-9a51-3e2f0b7d9c44--)/,
          'Content-Type: text/plain; name="logfile.log"\r\n\r\npostfix/smtpd[811]: connect from out-7.mailer.initech.example[203.0.113.9]\r\npostfix/smtpd[811]: 9A41C7: client=out-7.mailer.initech.example[203.0.113.9]',
        ),
      ),
    );
    t.equal(log.original, null);
    const none = await parsed(
      t,
      variant('xarf.eml', (s) => s.slice(0, s.indexOf('--Abuse-5d0c7e1a-6b2f-4c8e-9a51-3e2f0b7d9c44\r\nContent-Type: message/rfc822')) + '--Abuse-5d0c7e1a-6b2f-4c8e-9a51-3e2f0b7d9c44--\r\n'),
    );
    t.equal(none.original, null);
    t.equal(none.sourceIp, '203.0.113.9');
  });

  t.test('evidence sent as text/plain that is a message is the original', async (t) => {
    const r = await parsed(t, variant('xarf.eml', (s) => s.replace('Content-Type: message/rfc822; name="evidence.eml"', 'Content-Type: text/plain; name="evidence.txt"')));
    t.equal(r.original?.messageId, '<8f2e1c.spam@mailer.initech.example>');
  });

  t.test('without the X-ARF header it is not a report', async (t) => {
    t.equal(await refused(t, variant('xarf.eml', (s) => s.replace('X-ARF: YES\r\n', ''))), 'not a multipart/report (Content-Type is multipart/mixed) and no X-ARF: Yes header');
  });
});

t.test('sampleHeaders', async (t) => {
  t.test('redacts recipient fields and recipient addresses wherever they appear; keeps the rest', async (t) => {
    const r = await parsed(t, fixture('arf-stamped.eml'));
    const sample = sampleHeaders(r);
    const lines = sample.split('\n');
    t.ok(lines.includes('To: [redacted]'), 'To');
    t.notMatch(sample, /jane\.doe/i, 'the recipient appears nowhere');
    t.ok(lines.includes('List-Unsubscribe: <https://acme.example/u?r=[redacted]>'), 'percent-encoded in a URL');
    t.ok(lines.includes('Return-Path: <bounces+7f3a9c-[redacted]@mail.acme.example>'), 'VERP-encoded in a bounce address');
    t.match(sample, /\tfor <\[redacted\]>; Sun, 30 Nov 2025 10:53:21 \+0000/, 'in a Received field');
    t.ok(lines.includes('From: "ACME Offers" <offers@acme.example>'), 'From kept');
    t.ok(lines.includes('Subject: =?UTF-8?Q?Your_exclusive_winter_offer_=E2=9D=84?='), 'Subject kept');
    t.ok(lines.includes('Message-ID: <20261130.stamped@mail.acme.example>'), 'Message-ID kept');
    t.ok(lines.includes(`X-Abuse-Desk-Tenant: ${STAMP}`), 'the stamp kept');
    t.equal(lines.length, 13, 'one line per field');
  });

  t.test('Cc and the other addresses in it are redacted', async (t) => {
    const r = await parsed(t, fixture('arf-headers-only.eml'));
    const sample = sampleHeaders(r);
    t.ok(sample.split('\n').includes('Cc: [redacted]'));
    t.notMatch(sample, /pat\.kim|robin@example\.com|sam\.lee/i);
    t.ok(sample.split('\n').includes('Message-ID: <c0ffee.42@mailer.globex.example>'));
  });

  const base = async (t: Asserts) => parsed(t, fixture('arf-stamped.eml'));
  const withHeaders = (r: ParsedReport, headers: [string, string][]): ParsedReport => ({ ...r, original: { ...(r.original as OriginalMessage), headers } });

  t.test('an originalRcptTo address inside any other header, in any case', async (t) => {
    const r = withHeaders(await base(t), [
      ['X-Mailer-Recipient', 'JANE.DOE@EXAMPLE.NET'],
      ['Subject', 'A note for jane.doe@example.net only'],
      ['X-Other', 'jane.doe@example.org is someone else'],
    ]);
    t.equal(sampleHeaders(r), 'X-Mailer-Recipient: [redacted]\nSubject: A note for [redacted] only\nX-Other: jane.doe@example.org is someone else');
  });

  t.test('Bcc, Delivered-To, X-Original-To and Envelope-To are redacted whole', async (t) => {
    const r = withHeaders({ ...(await base(t)), originalRcptTo: [] }, [
      ['Bcc', 'a@example.com'],
      ['Delivered-To', 'b@example.com'],
      ['X-Original-To', 'c@example.com'],
      ['Envelope-To', 'd@example.com'],
      ['X-Trace', 'delivered for c@example.com'],
    ]);
    t.equal(sampleHeaders(r), 'Bcc: [redacted]\nDelivered-To: [redacted]\nX-Original-To: [redacted]\nEnvelope-To: [redacted]\nX-Trace: delivered for [redacted]');
  });

  t.test("the envelope recipient in a Received field's for clause, even when no other field names it", async (t) => {
    const r = withHeaders({ ...(await base(t)), originalRcptTo: [] }, [
      ['Received', 'from a.example (a.example [192.0.2.1]) by b.example with ESMTP id 1 for <e@example.com>; Sun, 30 Nov 2025 10:53:21 +0000'],
      ['Received', 'by b.example for f@example.com; Sun, 30 Nov 2025 10:53:22 +0000'],
    ]);
    t.equal(
      sampleHeaders(r),
      'Received: from a.example (a.example [192.0.2.1]) by b.example with ESMTP id 1 for <[redacted]>; Sun, 30 Nov 2025 10:53:21 +0000\nReceived: by b.example for [redacted]; Sun, 30 Nov 2025 10:53:22 +0000',
    );
  });

  t.test('at most 60 fields', async (t) => {
    const headers = Array.from({ length: 200 }, (_, i): [string, string] => [`X-Field-${i}`, `value ${i}`]);
    const lines = sampleHeaders(withHeaders(await base(t), headers)).split('\n');
    t.equal(lines.length, 60);
    t.equal(lines[59], 'X-Field-59: value 59');
  });

  t.test('at most 8 KB, cut on a character boundary', async (t) => {
    // 3-byte characters, so that the limit falls inside one (7 whole lines are 7 × 1211 bytes, 8192 − 7266 − 10 = 916 = 3 × 305 + 1)
    const headers = Array.from({ length: 20 }, (_, i): [string, string] => [`X-Long-${i}`, '€'.repeat(400)]);
    const sample = sampleHeaders(withHeaders(await base(t), headers));
    const bytes = Buffer.byteLength(sample);
    t.ok(bytes <= 8192, `${bytes} bytes`);
    t.equal(bytes, 8191, 'filled up to the last whole character');
    t.notMatch(sample, /\uFFFD/, 'no broken character at the cut');
    t.ok(sample.startsWith(`X-Long-0: ${'€'.repeat(400)}\nX-Long-1: `));
    t.ok(sample.endsWith(`\nX-Long-6: ${'€'.repeat(305)}`), 'the line that does not fit is cut, the rest left out');
  });

  t.test('no original message, no sample', async (t) => {
    t.equal(sampleHeaders({ ...(await base(t)), original: null }), '');
  });
});
