// The digest (issue 14): one email to an address on several tenants' lists — typically a TAM — listing
// every ticket message held for it since the last digest, instead of one email per ticket. Each entry is
// what that message would have said in one line (its subject), with the facts a reader acts on: what
// tripped, the deadline, the ticket page and the resolution link.
import { deadlineWords, ruleSummary } from '../ticket-words.js';
import { renderEmail, escapeHtml } from './templates.js';
import type { RenderedEmail } from './templates.js';
import type { EmailKind, Recipient, TicketView } from './view.js';

export interface DigestEntry {
  kind: EmailKind;
  view: TicketView;
  /** The ticket's page in the agent UI. */
  ticketUrl: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** An entry's headline: the subject its own email would have had, without the ticket tag (the line starts with the number). */
const headline = (e: DigestEntry, recipient: Recipient) => renderEmail(e.kind, e.view, recipient).subject.replace(/^\[[^\]]*\]\s*/, '');

export function renderDigest(entries: DigestEntry[], recipient: Recipient, periodMinutes: number): RenderedEmail {
  const tickets = new Set(entries.map((e) => e.view.number)).size;
  const tenants = new Set(entries.map((e) => e.view.tenantId)).size;
  const subject = `[abuse-desk] Digest: ${plural(entries.length, 'message')} on ${plural(tickets, 'ticket')} for ${plural(tenants, 'tenant')}`;
  const greeting = recipient.name ? `Hello ${recipient.name},` : 'Hello,';
  const lead =
    periodMinutes > 0
      ? `You are a contact of several tenants, so instead of one email per ticket you get one digest at most every ${plural(periodMinutes, 'minute')}. Since the last one:`
      : 'You are a contact of several tenants. These messages were waiting for a digest when digests were switched off:';
  const lines = entries.map((e) => {
    const v = e.view;
    return {
      title: `${v.number} · ${v.tenantName} · ${headline(e, recipient)}`,
      facts: [
        `What tripped: ${ruleSummary(v)}`,
        `Deadline: ${v.deadlineAt ? deadlineWords(v.deadlineAt, recipient.timezone) : 'not running'}`,
        ...(v.outboundDisabled ? ['Outbound mail is disabled'] : []),
        `Ticket: ${e.ticketUrl}`,
        `Report the fix: ${v.resolutionUrl}`,
      ],
    };
  });
  const text = [greeting, '', lead, '', ...lines.flatMap((l) => [l.title, ...l.facts.map((f) => `    ${f}`), '']), '— The abuse desk', ''].join('\n');
  const h = escapeHtml;
  const link = (f: string) => f.replace(/(https?:\/\/\S+)$/, (u) => `<a href="${u}">${u}</a>`);
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${h(subject)}</title>`,
    '</head><body>',
    `<p>${h(greeting)}</p>`,
    `<p>${h(lead)}</p>`,
    ...lines.map((l) => `<h3>${h(l.title)}</h3><ul>${l.facts.map((f) => `<li>${link(h(f))}</li>`).join('')}</ul>`),
    '<p>— The abuse desk</p>',
    '</body></html>',
    '',
  ].join('\n');
  return { subject, text, html };
}

/** What a digest call says: how many tickets wait, for whom, and where the details are. */
export function digestCallScript(o: { tickets: number; tenants: string[]; name: string | null }): string {
  const shown = o.tenants.slice(0, 5);
  const more = o.tenants.length - shown.length;
  const who = `${shown.join(', ')}${more > 0 ? `, and ${plural(more, 'other tenant')}` : ''}`;
  return [
    `Hello${o.name ? ` ${o.name}` : ''}. This is the abuse desk of your mail provider.`,
    `${plural(o.tickets, 'new abuse ticket')} of your tenants ${o.tickets === 1 ? 'is' : 'are'} waiting: ${who}.`,
    'The details and the links are in the digest email we sent you. Goodbye.',
  ].join(' ');
}
