// The emails a tenant's contacts and TAM receive (SPEC §8), rendered from a TicketView as plain
// text and HTML. Every kind carries the same facts — ticket, tenant, what tripped, the senders,
// the deadline, the resolution link — and differs only in why it was sent and what to do next.
import type { EmailKind, Recipient, TicketView, WalkTry } from './view.js';
import { count, deadlineWords, duration, ratioWords, ruleDescription, ruleHeadline, ruleSummary, utcDateTime, utcTime } from '../ticket-words.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** How the deadline appears in an email of this kind. */
type DeadlineShown = 'running' | 'passed' | 'omitted';

interface Wording {
  subject: string;
  /** Why this email was sent, one paragraph each. */
  lead: string[];
  deadline: DeadlineShown;
  /** What to do with the resolution link, shown right above it. */
  action: string;
}

/** How many senders the email lists; the ticket page has the rest. */
const TOP_SENDERS_SHOWN = 10;

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A header must stay on one line whatever a tenant's name contains. */
const oneLine = (value: string) => value.replace(/\s+/g, ' ').trim();

const lowerFirst = (value: string) => value.charAt(0).toLowerCase() + value.slice(1);

/** A follow-up's first sentence: what the walk did at the step before it (Recipient.tried). */
const FOLLOWUP_LEAD: Record<WalkTry, (tenant: string) => string> = {
  call: (tenant) => `We called you about outbound mail from ${tenant} and could not reach you, so we are writing instead.`,
  'call-not-placed': (tenant) => `We did not call you about outbound mail from ${tenant}: your number has already been called several times in the last hour, so we are writing instead.`,
  sms: (tenant) => `We sent you a text message about outbound mail from ${tenant} and had no reply with its code, so we are writing instead.`,
  'sms-not-sent': (tenant) => `We could not send you a text message about outbound mail from ${tenant}, so we are writing instead.`,
};

function wording(kind: EmailKind, view: TicketView, recipient: Recipient): Wording {
  const tenant = view.tenantName;
  const headline = ruleHeadline(view.rule);
  const by = view.deadlineAt ? ` by ${utcTime(view.deadlineAt)}` : '';
  const tag = `[${view.number}]`;
  const deadlineSentence = view.deadlineAt
    ? `If no fix is reported by ${deadlineWords(view.deadlineAt, recipient.timezone)}, outbound mail from ${tenant} will be disabled.`
    : `Once a contact acknowledges this ticket, or every contact has been tried, ${tenant} has a limited time to report a fix before outbound mail is disabled.`;
  const alreadyDisabled = view.outboundDisabled ? [`Outbound mail from ${tenant} is already disabled while this ticket is open.`] : [];
  const reportFix =
    'Stop the abuse (for example, secure or disable the senders listed above), then report what you did at the link below. The link belongs to this ticket only; do not forward it outside your organisation.';

  switch (kind) {
    case 'followup':
      return {
        subject: `${tag} ${headline} from ${tenant} — action needed${by}`,
        lead: [
          FOLLOWUP_LEAD[recipient.tried ?? 'call'](tenant),
          `Our filters found that ${ruleSummary(view)}.`,
          ...alreadyDisabled,
          deadlineSentence,
        ],
        deadline: 'running',
        action: reportFix,
      };
    case 'final':
      return {
        subject: `${tag} Final notice: ${lowerFirst(headline)} from ${tenant} — action needed${by}`,
        lead: [
          `We have tried every contact for ${tenant} by phone and reached nobody, so this notice goes to all of you.`,
          `Our filters found that ${ruleSummary(view)}.`,
          ...alreadyDisabled,
          deadlineSentence,
        ],
        deadline: 'running',
        action: reportFix,
      };
    case 'confirmation':
      return {
        subject: `${tag} Acknowledged: ${lowerFirst(headline)} from ${tenant} — fix due${by}`,
        lead: [
          `${view.acknowledgedBy ?? 'A contact'} acknowledged this ticket for ${tenant}${view.acknowledgedHow ? ` ${view.acknowledgedHow}` : ''}. Thank you — we have stopped calling.`,
          `Our filters found that ${ruleSummary(view)}.`,
          ...alreadyDisabled,
          deadlineSentence,
        ],
        deadline: 'running',
        action: reportFix,
      };
    case 'suspension_notice':
      // A statement of reasons (EU DSA Art. 17): the facts, the grounds, whether it was automated, how to contest it.
      return {
        subject: `${tag} Outbound mail from ${tenant} disabled`,
        lead: [
          `Outbound mail from ${tenant} has been disabled under this ticket. Until it is re-enabled, the platform does not send mail from this account.`,
          `Our filters found that ${ruleSummary(view)}.`,
          ...(view.suspension
            ? [
                `Why it was disabled: ${view.suspension.grounds}.`,
                view.suspension.automated
                  ? 'This decision was made automatically by the abuse desk’s rules, without a person reviewing it first.'
                  : 'This decision was made by a member of our support team.',
              ]
            : []),
        ],
        deadline: 'passed',
        action:
          'To get outbound mail re-enabled, stop the abuse (for example, secure or disable the senders listed above), then report what you did at the link below. A support agent reviews the report and re-enables outbound mail once the problem is fixed. If you believe this decision is wrong (for example, the mail was not spam), say so in the same report: a ticket closed as a false positive re-enables outbound mail at once.',
      };
    case 'reinstatement_notice': {
      const closed =
        view.state === 'dismissed'
          ? `This ticket for ${tenant} was closed as a false positive.`
          : `This ticket for ${tenant} has been resolved. Thank you for the fix.`;
      const mail = view.outboundDisabled
        ? `Outbound mail from ${tenant} is being re-enabled.`
        : `Outbound mail from ${tenant} is enabled; if it had been disabled, it has been re-enabled.`;
      return {
        subject: `${tag} ${view.state === 'dismissed' ? 'Closed' : 'Resolved'}: outbound mail from ${tenant} enabled`,
        lead: [closed, mail, `For the record, our filters had found that ${ruleSummary(view)}.`],
        deadline: 'omitted',
        action: 'No further action is needed. The ticket summary stays available at the link below; if you have more to report about the fix, report it there.',
      };
    }
    case 'tam_briefing':
      return {
        subject: `${tag} TAM briefing: ${lowerFirst(headline)} from ${tenant}${view.deadlineAt ? ` — fix due${by}` : ''}`,
        lead: [
          `You are listed as the technical account manager for ${tenant}. The abuse desk opened this ticket and is calling the tenant's contacts in order.`,
          `Our filters found that ${ruleSummary(view)}.`,
          ...alreadyDisabled,
          deadlineSentence,
        ],
        deadline: 'running',
        action:
          'If you can reach the tenant, ask them to stop the abuse and report the fix at the link below, or report it there yourself. The link belongs to this ticket only.',
      };
  }
}

/** The facts every email states, as label/value rows. */
function facts(kind: EmailKind, view: TicketView, recipient: Recipient, deadline: DeadlineShown): [string, string][] {
  const e = view.evidence;
  const rows: [string, string][] = [
    ['Ticket', view.number],
    ['Tenant', `${view.tenantName} (tenant id ${view.tenantId})`],
    ['Severity', view.severity],
    ['Rule', ruleDescription(view.rule)],
    ['Counts', `spam ${count(e.counts.spam)}, phish ${count(e.counts.phish)}, virus ${count(e.counts.virus)}, clean ${count(e.counts.clean)}`],
    ['Total', `${count(e.total)} messages`],
    ['Ratio', ratioWords(view)],
    ['Window', `${duration(e.windowSeconds)}, ${utcDateTime(e.windowStart)} to ${utcDateTime(e.windowEnd)}`],
    // A suspension notice is about the disabling itself, whatever the view was read a moment before.
    ['Outbound mail', view.outboundDisabled || kind === 'suspension_notice' ? 'DISABLED' : 'enabled'],
  ];
  if (kind === 'suspension_notice' && view.suspension) rows.push(['Decision', view.suspension.automated ? 'automated (the abuse desk’s rules)' : 'by a support agent']);
  if (deadline === 'running') {
    rows.push([
      'Deadline',
      view.deadlineAt
        ? deadlineWords(view.deadlineAt, recipient.timezone)
        : 'not running yet (it starts when a contact acknowledges or every contact has been tried)',
    ]);
  } else if (deadline === 'passed' && view.deadlineAt) {
    rows.push(['Deadline (passed)', deadlineWords(view.deadlineAt, recipient.timezone)]);
  }
  return rows;
}

const senderLines = (view: TicketView) =>
  view.evidence.topSenders
    .slice(0, TOP_SENDERS_SHOWN)
    .map((s) => `${s.sender}: ${count(s.count)} message${s.count === 1 ? '' : 's'}`);

const SIGN_OFF = 'The abuse desk';

/** Complaint tickets (issue 17): the reports' feedback types, top subjects and sample headers (recipients redacted). */
function complaintText(view: TicketView): string[] {
  const c = view.evidence.complaints;
  if (!c) return [];
  const types = Object.entries(c.feedbackTypes).map(([type, n]) => `${type} ${count(n)}`).join(', ');
  return [
    `Complaint reports: ${count(c.count)} (${types})`,
    ...(c.topSubjects.length ? ['Top reported subjects:', ...c.topSubjects.slice(0, 5).map((s) => `  - ${s.subject}: ${count(s.count)}`)] : []),
    '',
    ...c.samples.flatMap((s, i) => [`Sample report ${i + 1} (${s.feedbackType}, ${utcDateTime(s.receivedAt)}${s.sourceIp ? `, from ${s.sourceIp}` : ''}), headers of the reported message:`, ...s.headers.split(/\r?\n/).map((l) => `  | ${l}`), '']),
  ];
}

function complaintHtml(view: TicketView): string[] {
  const c = view.evidence.complaints;
  if (!c) return [];
  const h = escapeHtml;
  const types = Object.entries(c.feedbackTypes).map(([type, n]) => `${type} ${count(n)}`).join(', ');
  return [
    `<p><strong>Complaint reports:</strong> ${h(count(c.count))} (${h(types)})</p>`,
    ...(c.topSubjects.length ? ['<p><strong>Top reported subjects:</strong></p>', `<ul>${c.topSubjects.slice(0, 5).map((s) => `<li>${h(s.subject)}: ${h(count(s.count))}</li>`).join('')}</ul>`] : []),
    ...c.samples.map((s, i) => `<p>Sample report ${i + 1} (${h(s.feedbackType)}, ${h(utcDateTime(s.receivedAt))}${s.sourceIp ? `, from ${h(s.sourceIp)}` : ''}), headers of the reported message:</p><pre>${h(s.headers)}</pre>`),
  ];
}

/** What the acknowledgement link is for, and the other ways (issue 16): a key press, and the SMS code when this recipient was texted. */
export const ackLead = (ackCode: string | null | undefined, texted = false) =>
  `Seen this and taking care of it? Acknowledge here (we then stop calling and your hour to report the fix starts), or press 1 when we call${ackCode && texted ? `, or reply ACK ${ackCode} to our text message` : ''}:`;

export function renderEmail(kind: EmailKind, view: TicketView, recipient: Recipient): RenderedEmail {
  const w = wording(kind, view, recipient);
  const rows = facts(kind, view, recipient, w.deadline);
  const senders = senderLines(view);
  const greeting = recipient.name ? `Hello ${recipient.name},` : 'Hello,';
  const labelWidth = Math.max(...rows.map(([label]) => label.length)) + 2;

  const text = [
    greeting,
    '',
    ...w.lead.flatMap((p) => [p, '']),
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(labelWidth)}${value}`),
    '',
    'Top offending senders:',
    ...(senders.length ? senders.map((s) => `  - ${s}`) : ['  (none recorded)']),
    '',
    ...complaintText(view),
    w.action,
    view.resolutionUrl,
    '',
    ...(recipient.acknowledgeUrl ? [ackLead(view.ackCode, recipient.texted), recipient.acknowledgeUrl, ''] : []),
    `— ${SIGN_OFF}`,
    '',
  ].join('\n');

  const h = escapeHtml;
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${h(oneLine(w.subject))}</title>`,
    '</head><body>',
    `<p>${h(greeting)}</p>`,
    ...w.lead.map((p) => `<p>${h(p)}</p>`),
    '<table>',
    ...rows.map(([label, value]) => `<tr><th align="left" valign="top">${h(label)}</th><td>${h(value)}</td></tr>`),
    '</table>',
    '<p><strong>Top offending senders:</strong></p>',
    senders.length ? `<ul>${senders.map((s) => `<li>${h(s)}</li>`).join('')}</ul>` : '<p>(none recorded)</p>',
    ...complaintHtml(view),
    `<p>${h(w.action)}</p>`,
    `<p><a href="${h(view.resolutionUrl)}">${h(view.resolutionUrl)}</a></p>`,
    ...(recipient.acknowledgeUrl ? [`<p>${h(ackLead(view.ackCode, recipient.texted))}</p>`, `<p><a href="${h(recipient.acknowledgeUrl)}">${h(recipient.acknowledgeUrl)}</a></p>`] : []),
    `<p>— ${h(SIGN_OFF)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  return { subject: oneLine(w.subject), text, html };
}
