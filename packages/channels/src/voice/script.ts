// What a person hears on the phone (SPEC §8): the live call, read inside a one-digit gather, and
// the voicemail left when a machine answers. Plain sentences; the voice adapter wraps them in TwiML.
import type { Recipient, TicketView } from '../email/view.js';
import { count, duration, percent, zonedParts } from '../ticket-words.js';

/** "ABU-000042" → "A B U, 0 0 0 0 4 2": a speech engine would otherwise read "forty-two". */
export const spokenTicketNumber = (number: string) =>
  number
    .split('-')
    .filter((segment) => segment.length > 0)
    .map((segment) => [...segment].join(' '))
    .join(', ');

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number) => String(n).padStart(2, '0');

/** "Berlin time" for Europe/Berlin, "New York time" for America/New_York. */
const zoneName = (zone: string) => `${(zone.split('/').pop() ?? zone).replace(/_/g, ' ')} time`;

/** "14:05 UTC on 2 January, that is 15:05 Berlin time" — the local part only when the zone is known. */
export function spokenDeadline(deadline: Date, timeZone: string | null): string {
  const utc = `${pad(deadline.getUTCHours())}:${pad(deadline.getUTCMinutes())} UTC on ${deadline.getUTCDate()} ${MONTHS[deadline.getUTCMonth()]}`;
  const local = zonedParts(deadline, timeZone);
  return local ? `${utc}, that is ${local.time} ${zoneName(local.zone)}` : utc;
}

function spokenSummary(view: TicketView): string {
  const e = view.evidence;
  const window = duration(e.windowSeconds);
  const pct = percent(e.ratio).replace('%', ' percent');
  switch (view.rule) {
    case 'spam':
      return `within ${window}, ${count(e.counts.spam + e.counts.phish)} of ${count(e.total)} messages sent from this account, ${pct}, were spam or phishing`;
    case 'virus':
      return `within ${window}, ${count(e.counts.virus)} messages sent from this account carried a virus`;
    case 'surge':
      return `within ${window}, this account sent ${count(e.total)} messages, far more than it usually sends`;
    case 'complaints':
      return `within ${window}, recipients reported ${count(e.complaints?.count ?? 0)} messages sent from this account as spam, ${pct} of what it sent`;
  }
}

function consequence(view: TicketView, recipient: Recipient, canAcknowledge: boolean): string {
  if (view.outboundDisabled) return `Outbound mail from ${view.tenantName} is already disabled.`;
  if (view.deadlineAt) {
    return `If no fix is reported by ${spokenDeadline(view.deadlineAt, recipient.timezone)}, outbound mail from ${view.tenantName} will be disabled.`;
  }
  if (canAcknowledge && view.deadlineIfAcknowledgedNow) {
    return `If you acknowledge now, outbound mail from ${view.tenantName} will be disabled at ${spokenDeadline(view.deadlineIfAcknowledgedNow, recipient.timezone)}, unless a fix is reported by then.`;
  }
  const start = canAcknowledge ? 'Once you acknowledge' : 'Once a contact acknowledges, or every contact has been tried';
  return `${start}, ${view.tenantName} has a limited time to report a fix before outbound mail is disabled.`;
}

export function callScript(view: TicketView, recipient: Recipient): string {
  const ticket = spokenTicketNumber(view.number);
  return [
    recipient.name ? `Hello ${recipient.name}.` : 'Hello.',
    `This is the abuse desk of your mail provider, calling about outbound mail from ${view.tenantName}.`,
    `Our filters found that ${spokenSummary(view)}.`,
    `This is ticket ${ticket}.`,
    consequence(view, recipient, true),
    'An email with the details and a link to report the fix is on its way.',
    'Press 1 to acknowledge this ticket.',
    `Again: ticket ${ticket}. Press 1 to acknowledge.`,
  ].join(' ');
}

export function voicemailScript(view: TicketView, recipient: Recipient): string {
  return [
    recipient.name ? `Hello ${recipient.name}.` : 'Hello.',
    `This is the abuse desk of your mail provider, with an urgent message about outbound mail from ${view.tenantName}.`,
    `Our filters found that ${spokenSummary(view)}.`,
    `This is ticket ${spokenTicketNumber(view.number)}.`,
    consequence(view, recipient, false),
    'An email follows with the details and a link to report the fix. Please read it as soon as you can.',
  ].join(' ');
}
