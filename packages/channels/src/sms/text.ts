// What our SMS say (issue 16): short, plain ASCII (GSM-7, so one or two parts, not UCS-2), no links —
// the resolution and acknowledgement links stay in the emails. Every SMS names the ticket, the tenant and
// the code to reply with, and the other ways to acknowledge.
import { ruleHeadline, utcTime } from '../ticket-words.js';
import type { TicketView } from '../email/view.js';

/** A tenant name inside an SMS: one line, at most 40 characters. */
const short = (name: string) => {
  const one = name.replace(/\s+/g, ' ').trim();
  return one.length > 40 ? `${one.slice(0, 39)}~` : one;
};

type SmsView = Pick<TicketView, 'number' | 'tenantName' | 'rule'> & { ackCode: string | null };

/** The walk's SMS (`sms`) or the one beside a follow-up email after an unanswered call (`sms_followup`). */
export function smsText(kind: 'sms' | 'sms_followup', view: SmsView): string {
  const what = `${ruleHeadline(view.rule).toLowerCase()} from ${short(view.tenantName)}`;
  const reply = view.ackCode ? `Reply ACK ${view.ackCode} to acknowledge` : 'Press 1 when we call to acknowledge';
  if (kind === 'sms_followup') return `[abuse-desk] We called about ${view.number} (${what}) and missed you. ${reply}, or use the link in our email.`;
  return `[abuse-desk] ${view.number}: ${what}. ${reply} (or press 1 when we call, or use the link in our email).`;
}

/** The answer to a reply: what it did, in one SMS. */
export function smsReplyText(r: { kind: 'acknowledged'; number: string; tenantName: string; deadlineAt: Date | null } | { kind: 'notNeeded'; number: string; acknowledgedBy: string | null; state: string } | { kind: 'recorded'; numbers: string[]; codeGiven: boolean }): string {
  switch (r.kind) {
    case 'acknowledged':
      return `Thank you: ${r.number} is acknowledged and we stop calling.${r.deadlineAt ? ` Report the fix through the link in our email by ${utcTime(r.deadlineAt)}, or outbound mail from ${short(r.tenantName)} will be disabled.` : ''}`;
    case 'notNeeded':
      return r.acknowledgedBy ? `${r.number} was already acknowledged by ${short(r.acknowledgedBy)}. Thank you.` : `${r.number} needs no acknowledgement any more (it is ${r.state.replace(/_/g, ' ')}).`;
    case 'recorded': {
      const tickets = r.numbers.join(', ');
      return r.codeGiven
        ? `That code does not match ${tickets}. To acknowledge, reply ACK and the 4-digit code from our message. Your message is on the ticket.`
        : `Your message is on ${tickets}. To acknowledge, reply ACK and the 4-digit code from our message.`;
    }
  }
}
