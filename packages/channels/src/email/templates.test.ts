import { ticketView, type TicketViewOverrides } from '@abuse-desk/testkit';
import t from 'tap';
import { smsReplyText, smsText } from '../sms/text.js';
import { renderEmail } from './templates.js';
import type { EmailKind, Recipient } from './view.js';

const KINDS: EmailKind[] = ['followup', 'final', 'confirmation', 'suspension_notice', 'reinstatement_notice', 'tam_briefing'];

/** The sample ticket engaged by Dana Ops, with every verdict kind counted and two senders to list. */
const ticket = (over: TicketViewOverrides = {}) =>
  ticketView({
    state: 'engaged',
    acknowledgedBy: 'Dana Ops',
    ...over,
    evidence: {
      counts: { spam: 600, phish: 20, virus: 3, clean: 4377 },
      topSenders: [
        { sender: 'newsletter@acme.example', count: 540 },
        { sender: 'billing@acme.example', count: 60 },
      ],
      ...over.evidence,
    },
  });

const berlin: Recipient = { name: 'Bob Builder', timezone: 'Europe/Berlin' };

for (const kind of KINDS) {
  t.test(`a ${kind} email names the ticket, the tenant, what tripped, the senders and the resolution link`, async (t) => {
    const email = renderEmail(kind, ticket(), berlin);
    t.match(email.subject, '[ABU-000042]', 'the subject carries the ticket number');
    t.match(email.subject, 'Acme Hosting');
    for (const [part, body] of [
      ['text', email.text],
      ['html', email.html],
    ] as const) {
      t.match(body, 'ABU-000042', `${part}: ticket number`);
      t.match(body, 'Acme Hosting', `${part}: tenant name`);
      t.match(body, 'acme-prod', `${part}: tenant id`);
      t.match(body, 'spam 600, phish 20, virus 3, clean 4,377', `${part}: counts`);
      t.match(body, '5,000 messages', `${part}: total`);
      t.match(body, '12.4%', `${part}: ratio as a percentage`);
      t.match(body, '10 minutes, 2025-01-02 13:50 UTC to 2025-01-02 14:00 UTC', `${part}: window`);
      t.match(body, 'newsletter@acme.example: 540 messages', `${part}: top sender`);
      t.match(body, 'billing@acme.example: 60 messages', `${part}: second sender`);
      t.match(body, 'https://abuse.example.net/resolve/Zm9vYmFyYmF6cXV4', `${part}: resolution link`);
      t.match(body, 'Hello Bob Builder,', `${part}: greets the recipient`);
    }
    t.match(email.html, '<a href="https://abuse.example.net/resolve/Zm9vYmFyYmF6cXV4">', 'the link is clickable');
    t.notMatch(email.html, /<img|<link|<style|src=/i, 'no external images or style sheets');
  });
}

for (const kind of ['followup', 'final', 'confirmation', 'tam_briefing'] as const) {
  t.test(`a ${kind} email shows the running deadline in UTC and in the recipient's zone`, async (t) => {
    const email = renderEmail(kind, ticket(), berlin);
    t.match(email.subject, 'by 15:05 UTC');
    t.match(email.text, /Deadline:\s+2025-01-02 15:05 UTC \(2025-01-02 16:05 GMT\+1, Europe\/Berlin\)/);
    t.match(email.text, 'If no fix is reported by 2025-01-02 15:05 UTC');
    t.match(email.html, '2025-01-02 15:05 UTC (2025-01-02 16:05 GMT+1, Europe/Berlin)');
    t.match(email.text, /report (what you did|the fix) at the link below/, 'tells the reader to report the fix at the link');
  });
}

t.test('a recipient in New York reads the deadline in New York time as well', async (t) => {
  const email = renderEmail('final', ticket(), { name: 'Nia', timezone: 'America/New_York' });
  t.match(email.text, '2025-01-02 15:05 UTC (2025-01-02 10:05 EST, America/New_York)');
});

t.test('without a known timezone the deadline is given in UTC only', async (t) => {
  const unknown = renderEmail('final', ticket(), { name: 'Uma', timezone: null });
  t.match(unknown.text, /Deadline:\s+2025-01-02 15:05 UTC\n/);
  const stale = renderEmail('final', ticket(), { name: 'Uma', timezone: 'Mars/Olympus_Mons' });
  t.match(stale.text, /Deadline:\s+2025-01-02 15:05 UTC\n/, 'an unknown zone name does not stop the email');
});

t.test('a follow-up sent before any deadline runs says when one will start', async (t) => {
  const email = renderEmail('followup', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null }), berlin);
  t.equal(email.subject, '[ABU-000042] Outbound spam from Acme Hosting — action needed');
  t.match(email.text, 'We called you about outbound mail from Acme Hosting and could not reach you');
  t.match(email.text, /Deadline:\s+not running yet/);
});

t.test('a confirmation says who acknowledged and by when the fix is due', async (t) => {
  const email = renderEmail('confirmation', ticket(), berlin);
  t.equal(email.subject, '[ABU-000042] Acknowledged: outbound spam from Acme Hosting — fix due by 15:05 UTC');
  t.match(email.text, 'Dana Ops acknowledged this ticket for Acme Hosting');
});

t.test('a final notice says every contact was tried', async (t) => {
  const email = renderEmail('final', ticket({ state: 'awaiting_response' }), { name: 'Acme Hosting contacts', timezone: null });
  t.equal(email.subject, '[ABU-000042] Final notice: outbound spam from Acme Hosting — action needed by 15:05 UTC');
  t.match(email.text, 'We have tried every contact for Acme Hosting by phone and reached nobody');
});

t.test('a suspension notice says outbound mail is disabled and how to get it re-enabled', async (t) => {
  const email = renderEmail('suspension_notice', ticket({ state: 'suspended', outboundDisabled: true }), berlin);
  t.equal(email.subject, '[ABU-000042] Outbound mail from Acme Hosting disabled');
  t.match(email.text, 'Outbound mail from Acme Hosting has been disabled');
  t.match(email.text, /Outbound mail:\s+DISABLED/);
  t.match(email.text, 'To get outbound mail re-enabled');
  t.match(email.text, /Deadline \(passed\):\s+2025-01-02 15:05 UTC/);
});

t.test('a suspension notice states why, whether it was automated, and how to contest it', async (t) => {
  const automated = renderEmail('suspension_notice', ticket({ state: 'suspended', outboundDisabled: true, suspension: { automated: true, grounds: 'no fix was reported before the deadline' } }), berlin);
  t.match(automated.text, 'Why it was disabled: no fix was reported before the deadline.');
  t.match(automated.text, 'This decision was made automatically by the abuse desk’s rules, without a person reviewing it first.');
  t.match(automated.text, /Decision:\s+automated/);
  t.match(automated.text, 'If you believe this decision is wrong');
  t.match(automated.html, 'Why it was disabled: no fix was reported before the deadline.');
  const byAgent = renderEmail('suspension_notice', ticket({ state: 'suspended', outboundDisabled: true, suspension: { automated: false, grounds: 'a phishing kit on the account' } }), berlin);
  t.match(byAgent.text, 'Why it was disabled: a phishing kit on the account.');
  t.match(byAgent.text, 'This decision was made by a member of our support team.');
  t.match(byAgent.text, /Decision:\s+by a support agent/);
  t.notMatch(renderEmail('final', ticket({ suspension: { automated: true, grounds: 'x' } }), berlin).text, 'Why it was disabled', 'only the suspension notice says it');
});

t.test('a reinstatement notice says the ticket is resolved and mail is enabled again, with no deadline', async (t) => {
  const email = renderEmail('reinstatement_notice', ticket({ state: 'resolved', deadlineAt: null }), berlin);
  t.equal(email.subject, '[ABU-000042] Resolved: outbound mail from Acme Hosting enabled');
  t.match(email.text, 'This ticket for Acme Hosting has been resolved');
  t.match(email.text, 'if it had been disabled, it has been re-enabled');
  t.notMatch(email.text, 'Deadline');
});

t.test('a reinstatement notice for a dismissed ticket calls it a false positive', async (t) => {
  const email = renderEmail('reinstatement_notice', ticket({ state: 'dismissed', deadlineAt: null }), berlin);
  t.equal(email.subject, '[ABU-000042] Closed: outbound mail from Acme Hosting enabled');
  t.match(email.text, 'closed as a false positive');
});

t.test('a TAM briefing tells the account manager the walk has started', async (t) => {
  const email = renderEmail('tam_briefing', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null }), { name: 'Tess Tam', timezone: 'Europe/Berlin' });
  t.equal(email.subject, '[ABU-000042] TAM briefing: outbound spam from Acme Hosting');
  t.match(email.text, 'technical account manager for Acme Hosting');
});

t.test('a virus ticket says how many messages carried a virus', async (t) => {
  const email = renderEmail('followup', ticket({ rule: 'virus', severity: 'critical', evidence: { ...ticket().evidence, windowSeconds: 300, ratio: 0.0006 } }), berlin);
  t.match(email.subject, '[ABU-000042] Viruses in outbound mail from Acme Hosting');
  t.match(email.text, '3 of 5,000 outbound messages (0.1%) sent within 5 minutes carried a virus');
  t.match(email.text, /Severity:\s+critical/);
});

t.test('the HTML part escapes whatever a sender address or tenant name contains', async (t) => {
  const email = renderEmail(
    'followup',
    ticket({
      tenantName: 'Evil & Co "Ltd"',
      evidence: { ...ticket().evidence, topSenders: [{ sender: '<script>alert(1)</script>@evil.example', count: 7 }] },
      resolutionUrl: 'https://abuse.example.net/resolve/abc?x=1&y="2"',
    }),
    berlin,
  );
  t.notMatch(email.html, '<script>', 'no script tag reaches the HTML');
  t.match(email.html, '&lt;script&gt;alert(1)&lt;/script&gt;@evil.example: 7 messages');
  t.match(email.html, 'Evil &amp; Co &quot;Ltd&quot;');
  t.match(email.html, 'href="https://abuse.example.net/resolve/abc?x=1&amp;y=&quot;2&quot;"');
  t.match(email.text, '<script>alert(1)</script>@evil.example: 7 messages', 'the plain text shows the sender as it is');
});

t.test('a tenant name with a line break cannot add a header to the subject', async (t) => {
  const email = renderEmail('followup', ticket({ tenantName: 'Acme\r\nBcc: victim@example.com' }), berlin);
  t.notMatch(email.subject, /[\r\n]/);
});

t.test('while the walk looks for someone, an email carries the recipient’s acknowledgement link and says how else to acknowledge', async (t) => {
  const url = 'https://abuse.example.net/ack/QWNrVG9rZW5Gb3JCb2I';
  const email = renderEmail('followup', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null }), { ...berlin, acknowledgeUrl: url });
  t.match(email.text, `${url}\n`, 'text: the link');
  t.match(email.text, /Acknowledge here .* or press 1 when we call/, 'text: the ways to acknowledge');
  t.match(email.html, `<a href="${url}">`, 'html: the link is clickable');
  t.notMatch(renderEmail('followup', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null }), berlin).text, '/ack/', 'no link without one');
  t.notMatch(email.text, /reply ACK/, 'no SMS code on a ticket without one');
  const coded = renderEmail('followup', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null, ackCode: '4821' }), { ...berlin, acknowledgeUrl: url, texted: true });
  t.match(coded.text, /or press 1 when we call, or reply ACK 4821 to our text message:/, 'text: the third way, the SMS code, to a recipient we texted');
  t.match(coded.html, 'reply ACK 4821 to our text message', 'html: the same');
  const untexted = renderEmail('followup', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null, ackCode: '4821' }), { ...berlin, acknowledgeUrl: url });
  t.notMatch(untexted.text, /reply ACK|text message/, 'no SMS code for a recipient we never texted');
  t.notMatch(untexted.html, /reply ACK|text message/);
});

t.test('a follow-up says what the walk did before it: called, could not call, texted, could not text', async (t) => {
  const lead = (tried?: 'call' | 'call-not-placed' | 'sms' | 'sms-not-sent') => renderEmail('followup', ticket({ state: 'notifying', deadlineAt: null, acknowledgedBy: null }), { ...berlin, ...(tried ? { tried } : {}) }).text;
  t.match(lead(), 'We called you about outbound mail from Acme Hosting and could not reach you, so we are writing instead.', 'a call, by default');
  t.match(lead('call'), 'We called you about outbound mail from Acme Hosting and could not reach you');
  t.match(lead('call-not-placed'), 'We did not call you about outbound mail from Acme Hosting: your number has already been called several times in the last hour');
  t.match(lead('sms'), 'We sent you a text message about outbound mail from Acme Hosting and had no reply with its code, so we are writing instead.');
  t.match(lead('sms-not-sent'), 'We could not send you a text message about outbound mail from Acme Hosting, so we are writing instead.');
  for (const tried of ['sms', 'sms-not-sent'] as const) t.notMatch(lead(tried), /We called you/, `${tried}: never says we called`);
});

t.test('an SMS names the ticket, the tenant and the code, in plain ASCII within two parts', async (t) => {
  const view = { number: 'ABU-000042', tenantName: 'ACME Mail', rule: 'spam' as const, ackCode: '4821' };
  const walk = smsText('sms', view);
  t.equal(walk, '[abuse-desk] ABU-000042: outbound spam from ACME Mail. Reply ACK 4821 to acknowledge (or press 1 when we call, or use the link in our email).');
  const after = smsText('sms_followup', { ...view, tenantName: 'A'.repeat(80) });
  t.match(after, /^\[abuse-desk\] We called about ABU-000042 \(outbound spam from A{39}~\) and missed you\. Reply ACK 4821/, 'a long tenant name is cut');
  for (const text of [walk, after]) {
    t.ok(/^[\x20-\x7e]*$/.test(text), 'ASCII only (GSM-7, not UCS-2)');
    t.ok(text.length <= 306, `at most two SMS parts (${text.length} characters)`);
  }
  t.match(smsText('sms', { ...view, ackCode: null }), 'Press 1 when we call to acknowledge', 'a ticket from before SMS has no code to offer');
});

t.test('an SMS answer says what the reply did', async (t) => {
  t.equal(smsReplyText({ kind: 'acknowledged', number: 'ABU-000042', tenantName: 'ACME Mail', deadlineAt: new Date('2026-11-22T11:15:00Z') }), 'Thank you: ABU-000042 is acknowledged and we stop calling. Report the fix through the link in our email by 11:15 UTC, or outbound mail from ACME Mail will be disabled.');
  t.equal(smsReplyText({ kind: 'notNeeded', number: 'ABU-000042', acknowledgedBy: 'Bob Backup', state: 'engaged' }), 'ABU-000042 was already acknowledged by Bob Backup. Thank you.');
  t.match(smsReplyText({ kind: 'recorded', numbers: ['ABU-000042'], codeGiven: true }), /^That code does not match ABU-000042\. To acknowledge, reply ACK and the 4-digit code/);
  t.match(smsReplyText({ kind: 'recorded', numbers: ['ABU-000042'], codeGiven: false }), /^Your message is on ABU-000042\./);
});

t.test('a confirmation says how the contact acknowledged', async (t) => {
  const email = renderEmail('confirmation', ticket({ acknowledgedHow: 'by the link in our email' }), berlin);
  t.match(email.text, /acknowledged this ticket for .+ by the link in our email\./);
});

t.test('a complaint ticket’s email says what recipients reported, with feedback types, subjects and sample headers', async (t) => {
  const complaints = {
    count: 25,
    feedbackTypes: { abuse: 24, fraud: 1 },
    topSenders: [{ sender: 'news@acme.example', count: 25 }],
    topSubjects: [{ subject: 'Cheap <pills>', count: 20 }],
    samples: [{ feedbackType: 'abuse', receivedAt: '2025-01-02T13:55:00.000Z', sourceIp: '192.0.2.25', headers: 'From: news@acme.example\nTo: [redacted]\nSubject: Cheap <pills>' }],
  };
  const view = ticket({ rule: 'complaints', evidence: { ratio: 0.005, total: 5000, windowSeconds: 86400, complaints } as never });
  const email = renderEmail('followup', view, berlin);
  t.match(email.subject, /Spam complaints about outbound mail from Acme Hosting/);
  t.match(email.text, 'recipients reported 25 messages from this account as spam within 24 hours, 0.5% of the 5,000 outbound messages it sent');
  t.match(email.text, 'Complaint reports: 25 (abuse 24, fraud 1)');
  t.match(email.text, '  - Cheap <pills>: 20');
  t.match(email.text, /Sample report 1 \(abuse, 2025-01-02 13:55 UTC, from 192\.0\.2\.25\), headers of the reported message:\n  \| From: news@acme\.example\n  \| To: \[redacted\]/);
  t.match(email.html, '<pre>From: news@acme.example\nTo: [redacted]\nSubject: Cheap &lt;pills&gt;</pre>', 'html: escaped');
  t.notMatch(renderEmail('followup', ticket(), berlin).text, /Complaint reports/, 'other rules carry no complaint block');
});
