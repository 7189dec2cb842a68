// Words and times as agents read them: states and kinds in plain words, times in UTC unless said otherwise.

const STATE_WORDS: Record<string, string> = {
  notifying: 'notifying',
  engaged: 'engaged',
  awaiting_response: 'awaiting response',
  suspended: 'suspended',
  resolution_submitted: 'resolution submitted',
  resolved: 'resolved',
  dismissed: 'dismissed',
  shadow: 'shadow',
};
export const stateWords = (s: string | null | undefined) => (s ? (STATE_WORDS[s] ?? s.replace(/_/g, ' ')) : '');

const KIND_WORDS: Record<string, string> = {
  call: 'call',
  followup: 'follow-up email',
  final: 'final email',
  tam_briefing: 'TAM briefing',
  tam_call: 'TAM call',
  sms: 'SMS',
  sms_followup: 'SMS after the call',
  confirmation: 'confirmation',
  suspension_notice: 'suspension notice',
  reinstatement_notice: 'reinstatement notice',
};
export const kindWords = (k: string) => KIND_WORDS[k] ?? k.replace(/_/g, ' ');

export const channelWords = (c: string) => (c === 'voice' ? 'call' : c === 'sms' ? 'SMS' : c);

const OUTCOME_WORDS: Record<string, string> = {
  'no-answer': 'no answer',
  acknowledged: 'acknowledged',
  sent: 'sent',
  voicemail: 'voicemail',
  busy: 'busy',
  failed: 'failed',
  canceled: 'canceled',
  unknown: 'unknown (no result from the provider)',
  'rate-limited': 'not called: the number had its calls for the hour (emailed instead)',
  digested: 'in the digest call',
  answered: 'answered, no key pressed',
  'no-reply': 'no reply in time',
  undelivered: 'not delivered',
  'opted-out': 'not sent: the number opted out of SMS (STOP)',
};
const STATUS_WORDS: Record<string, string> = {
  pending: 'pending',
  dispatching: 'in progress',
  placed: 'ringing',
  held: 'waiting for the digest',
  done: 'done',
  canceled: 'canceled',
  failed: 'failed',
};
export const attemptResultWords = (a: { outcome: string | null; status: string; channel?: string; messageStatus?: string | null }) => {
  if (a.channel === 'sms' && a.outcome === 'rate-limited') return 'not sent: the number had its SMS for the hour';
  if (a.outcome) return OUTCOME_WORDS[a.outcome] ?? a.outcome.replace(/[-_]/g, ' ');
  // A walk SMS that went out waits for the reply; Twilio's delivery status says how far it got.
  if (a.channel === 'sms' && a.status === 'placed') return `waiting for a reply${a.messageStatus ? ` (${a.messageStatus})` : ''}`;
  return STATUS_WORDS[a.status] ?? a.status;
};

const EVENT_WORDS: Record<string, string> = {
  opened: 'ticket opened',
  escalated: 'escalated',
  'complaints.tripped': 'complaint rule tripped (evidence in the event)',
  'spam.tripped': 'spam rule tripped (evidence in the event)',
  'surge.tripped': 'surge rule tripped (evidence in the event)',
  contact_reached: 'contact reached',
  walk_exhausted: 'every contact tried',
  deadline_passed: 'deadline passed',
  suspend_on_open: 'suspended on opening',
  suspend: 'suspended by an agent',
  extend: 'deadline extended',
  resolution_submitted: 'resolution submitted',
  reject_resolution: 'resolution rejected',
  resolve: 'resolved',
  dismiss: 'dismissed',
  note: 'note',
  'sms.reply': 'SMS reply (no acknowledgement)',
  'sms.ended': 'SMS ended',
  superseded: 'superseded',
};
export const eventWords = (t: string) => EVENT_WORDS[t] ?? t.replace(/[_.]/g, ' ');

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-11-22 11:15:03 UTC" */
export function utc(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** "11:15" in UTC, for chart axes. */
export const utcHm = (d: Date) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;

/** The agent's own clock, "HH:MM:SS". */
export const localHms = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

/** "3d 4h", "2h 05m", "4m 09s", "12s" */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/** The deadline as a countdown: "12m 03s left", "overdue by 4s", "suspended", or why there is none. */
export function countdown(t: { deadlineAt: string | null; outboundDisabled: boolean; state: string; open?: boolean }, now: number): string {
  if (t.outboundDisabled) return 'suspended';
  if (!t.deadlineAt) {
    if (t.state === 'notifying') return 'not started (walk running)';
    if (t.state === 'resolution_submitted') return 'stopped (resolution under review)';
    return '—';
  }
  const left = new Date(t.deadlineAt).getTime() - now;
  return left >= 0 ? `${duration(left)} left` : `overdue by ${duration(-left)}`;
}

export const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
