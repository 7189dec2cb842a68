// How a ticket is put into words for a person: times, counts, the rule that tripped.
// Shared by the email templates and the call scripts so both say the same thing the same way.
import type { TicketView } from './email/view.js';

const numberFormat = new Intl.NumberFormat('en-US');

export const count = (n: number) => numberFormat.format(n);

/** 0.124 → "12.4%". */
export const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

const pad = (n: number) => String(n).padStart(2, '0');

const toDate = (value: Date | string): Date | null => {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
};

/** "2025-01-02 14:05 UTC" (seconds only when they are not zero). */
export function utcDateTime(value: Date | string): string {
  const date = toDate(value);
  if (!date) return String(value);
  const seconds = date.getUTCSeconds() === 0 ? '' : `:${pad(date.getUTCSeconds())}`;
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}${seconds} UTC`;
}

/** "14:05 UTC", for subject lines. */
export const utcTime = (date: Date) => `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;

const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Etc/Universal', 'Universal', 'Zulu', 'Etc/Zulu']);

/**
 * The wall-clock time in an IANA zone, e.g. `{ dateTime: "2025-01-02 15:05", time: "15:05", abbreviation: "GMT+1" }`.
 * Null when there is no zone, the zone is UTC anyway, or the zone is unknown to this runtime
 * (a contact's timezone is validated on input, but a stale name must not stop an email).
 */
export function zonedParts(date: Date, timeZone: string | null): { dateTime: string; time: string; abbreviation: string; zone: string } | null {
  if (!timeZone || UTC_ZONES.has(timeZone)) return null;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).formatToParts(date);
  } catch {
    return null;
  }
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const time = `${part('hour')}:${part('minute')}`;
  return {
    dateTime: `${part('year')}-${part('month')}-${part('day')} ${time}`,
    time,
    abbreviation: part('timeZoneName'),
    zone: timeZone,
  };
}

/** "2025-01-02 14:05 UTC (2025-01-02 15:05 GMT+1, Europe/Berlin)" — the zone part only when known. */
export function deadlineWords(deadline: Date, timeZone: string | null): string {
  const local = zonedParts(deadline, timeZone);
  const utc = utcDateTime(deadline);
  return local ? `${utc} (${local.dateTime} ${local.abbreviation}, ${local.zone})` : utc;
}

/** 600 → "10 minutes", 3600 → "1 hour", 90 → "90 seconds". */
export function duration(seconds: number): string {
  const unit = (n: number, word: string) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;
  if (seconds > 0 && seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  if (seconds > 0 && seconds % 60 === 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}

/** The headline of the abuse: "Outbound spam", "Viruses in outbound mail", "Outbound mail surge". */
export function ruleHeadline(rule: TicketView['rule']): string {
  switch (rule) {
    case 'spam':
      return 'Outbound spam';
    case 'virus':
      return 'Viruses in outbound mail';
    case 'surge':
      return 'Outbound mail surge';
    case 'complaints':
      return 'Spam complaints about outbound mail';
  }
}

/** The rule in a few words: "spam: too many spam or phishing messages". */
export function ruleDescription(rule: TicketView['rule']): string {
  switch (rule) {
    case 'spam':
      return 'spam: too many spam or phishing messages';
    case 'virus':
      return 'virus: outbound messages carrying viruses';
    case 'surge':
      return 'surge: far more outbound mail than usual';
    case 'complaints':
      return 'complaints: recipients reported too many messages as spam';
  }
}

/** The ratio with what it measures: "12.4% of all messages were spam or phishing". */
export function ratioWords(view: TicketView): string {
  const pct = percent(view.evidence.ratio);
  switch (view.rule) {
    case 'spam':
      return `${pct} of all messages were spam or phishing`;
    case 'virus':
      return `${pct} of all messages carried a virus`;
    case 'surge':
      return pct;
    case 'complaints':
      return `complaints about ${pct} of all messages`;
  }
}

/** What tripped, in one sentence without a final full stop. */
export function ruleSummary(view: TicketView): string {
  const e = view.evidence;
  const window = duration(e.windowSeconds);
  switch (view.rule) {
    case 'spam':
      return `${count(e.counts.spam + e.counts.phish)} of ${count(e.total)} outbound messages (${percent(e.ratio)}) sent within ${window} were spam or phishing`;
    case 'virus':
      return `${count(e.counts.virus)} of ${count(e.total)} outbound messages (${percent(e.ratio)}) sent within ${window} carried a virus`;
    case 'surge':
      return `${count(e.total)} outbound messages were sent within ${window}, far more than this account usually sends`;
    case 'complaints': {
      const n = e.complaints?.count ?? 0;
      return `recipients reported ${count(n)} message${n === 1 ? '' : 's'} from this account as spam within ${window}, ${percent(e.ratio)} of the ${count(e.total)} outbound messages it sent`;
    }
  }
}
