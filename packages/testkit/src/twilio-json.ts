// What the stand-in's resources (calls, messages) share in the way Twilio writes them: SIDs, RFC 2822
// dates, the error body, list pages and the date filters of list queries.
import { randomBytes } from 'node:crypto';

/** A reply for the server to send: an HTTP status and a JSON body. */
export interface TwilioReply {
  status: number;
  body: unknown;
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** RFC 2822 as Twilio writes it (twilio-node parses exactly `ddd, DD MMM YYYY HH:mm:ss +0000`). */
export function rfc2822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** Twilio's error body. */
export function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** Whether `v` is an absolute http: or https: URL, as Twilio wants every URL it is to fetch or call. */
export function isAbsoluteHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The last value of a form or query parameter. */
export const last = (params: Map<string, string[]>, name: string) => params.get(name)?.at(-1);

/**
 * A date as Twilio's list filters take it (GMT): `YYYY-MM-DD` (a whole day), ISO 8601 as twilio-node sends
 * it (`YYYY-MM-DDTHH:mm:ssZ`), `YYYY-MM-DD HH:mm:ss[.SSS]` without a zone (GMT), or anything else
 * Date.parse reads, which covers the spec's own examples (`Wed, 19 Jun 2019 22:04:00 -0000`,
 * `06/11/2019 22:05:25 MST`). NaN when it is none of them.
 */
export function parseTwilioDate(v: string): { ms: number; dayOnly: boolean } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return { ms: Date.parse(`${v}T00:00:00Z`), dayOnly: true };
  const noZone = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)$/.exec(v);
  if (noZone) return { ms: Date.parse(`${noZone[1]}T${noZone[2]}Z`), dayOnly: false };
  return { ms: Date.parse(v), dayOnly: false };
}

/**
 * Whether `t` passes the filters `on` (that day, or that second), `after` (on or after) and `before`
 * (on or before), as Twilio's StartTime / StartTime> / StartTime< and DateSent / DateSent> / DateSent<
 * do. Twilio's filters are to the second: a resource at 12:00:00.400 is "at" 12:00:00.
 */
export function withinDateFilters(t: number, on: string | undefined, after: string | undefined, before: string | undefined): boolean {
  const bound = (v: string, edge: 'start' | 'end') => {
    const { ms, dayOnly } = parseTwilioDate(v);
    if (Number.isNaN(ms) || edge === 'start') return ms;
    return ms + (dayOnly ? 86_400_000 : 1000) - 1;
  };
  if (on !== undefined && !(t >= bound(on, 'start') && t <= bound(on, 'end'))) return false;
  if (after !== undefined && !(t >= bound(after, 'start'))) return false;
  if (before !== undefined && !(t <= bound(before, 'end'))) return false;
  return true;
}

/**
 * One page of a list, as Twilio answers it: `key` holds the page's resources, `PageSize` (default 50)
 * and `Page` (default 0) choose the page, and next_page_uri / previous_page_uri lead on with the same
 * filters. Twilio's own next-page URIs also carry a PageToken; the stand-in's do not need one, and a
 * PageToken sent is accepted and ignored.
 */
export function listPage<T>(url: URL, query: Map<string, string[]>, key: string, found: T[], json: (item: T) => unknown) {
  const pageSize = Number(last(query, 'PageSize') ?? 50) || 50;
  const page = Number(last(query, 'Page') ?? 0) || 0;
  const start = page * pageSize;
  const items = found.slice(start, start + pageSize);
  const uriOf = (n: number) => {
    const q = new URLSearchParams(url.searchParams);
    q.delete('PageToken');
    q.set('PageSize', String(pageSize));
    q.set('Page', String(n));
    return `${url.pathname}?${q.toString()}`;
  };
  return {
    [key]: items.map(json),
    end: Math.max(start, start + items.length - 1),
    first_page_uri: uriOf(0),
    next_page_uri: found.length > start + pageSize ? uriOf(page + 1) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? uriOf(page - 1) : null,
    start,
    uri: uriOf(page),
  };
}

/** Newest first by `at`; of two made in the same millisecond, the later made first. */
export function newestFirst<T>(items: Iterable<T>, at: (item: T) => number): T[] {
  return [...items].reverse().sort((a, b) => at(b) - at(a));
}
