// The stand-in's calls: what Calls.json create, list, fetch and update do to them, and the JSON Twilio
// answers with (field names, RFC 2822 dates and sub-resource URIs as twilio-node parses them).
import { randomBytes } from 'node:crypto';

export interface StandinCall {
  sid: string;
  to: string;
  from: string;
  /** queued after create; a test may set ringing / in-progress / … to play the call on. */
  status: string;
  /** The create parameters as sent (StatusCallbackEvent always an array). */
  params: Record<string, string | string[]>;
  createdAt: Date;
  updatedAt: Date;
  /** Each update's form parameters, in order (Status, Twiml, Url, …). */
  updates: Record<string, string>[];
}

/** A reply for the server to send: an HTTP status and a JSON body. */
export interface CallsReply {
  status: number;
  body: unknown;
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** RFC 2822 as Twilio writes it (twilio-node parses exactly `ddd, DD MMM YYYY HH:mm:ss +0000`). */
function rfc2822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** Twilio's error body. */
export function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

const FINAL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
const SUBRESOURCES = ['notifications', 'recordings', 'payments', 'events', 'siprec', 'streams', 'transcriptions', 'user_defined_message_subscriptions', 'user_defined_messages'];

const last = (form: Map<string, string[]>, name: string) => form.get(name)?.at(-1);

/** The calls of one account, as Twilio would keep them. */
export class CallRegistry {
  readonly calls = new Map<string, StandinCall>();

  constructor(readonly accountSid: string) {}

  /** The call resource as Twilio answers it. */
  json(c: StandinCall) {
    const accountSid = this.accountSid;
    return {
      sid: c.sid,
      account_sid: accountSid,
      parent_call_sid: null,
      date_created: rfc2822(c.createdAt),
      date_updated: rfc2822(c.updatedAt),
      to: c.to,
      to_formatted: c.to,
      from: c.from,
      from_formatted: c.from,
      phone_number_sid: null,
      status: c.status,
      start_time: null,
      end_time: null,
      duration: null,
      price: null,
      price_unit: 'USD',
      direction: 'outbound-api',
      answered_by: null,
      annotation: null,
      api_version: '2010-04-01',
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: '0',
      trunk_sid: null,
      uri: `/2010-04-01/Accounts/${accountSid}/Calls/${c.sid}.json`,
      subresource_uris: Object.fromEntries(
        SUBRESOURCES.map((r) => [r, `/2010-04-01/Accounts/${accountSid}/Calls/${c.sid}/${r.replace(/(^|_)([a-z])/g, (_m, _u: string, ch: string) => ch.toUpperCase())}.json`]),
      ),
    };
  }

  /** A queued call from a create's form (To and From present), with its parameters as recorded. */
  create(form: Map<string, string[]>, params: Record<string, string | string[]>, at: Date): StandinCall {
    const sid = `CA${hex(16)}`;
    const call: StandinCall = { sid, to: last(form, 'To') ?? '', from: last(form, 'From') ?? '', status: 'queued', params, createdAt: at, updatedAt: at, updates: [] };
    this.calls.set(sid, call);
    return call;
  }

  /** One page (the first) of the calls matching the list filters, newest first. */
  list(url: URL, query: Map<string, string[]>) {
    const q = (name: string) => query.get(name)?.at(-1);
    const found = [...this.calls.values()].filter((c) => matchesFilters(c, q)).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const pageSize = Number(q('PageSize') ?? 50) || 50;
    const page = found.slice(0, pageSize);
    const pageQuery = new URLSearchParams(url.searchParams);
    if (!pageQuery.has('PageSize')) pageQuery.set('PageSize', String(pageSize));
    pageQuery.set('Page', '0');
    const pageUri = `${url.pathname}?${pageQuery.toString()}`;
    return {
      calls: page.map((c) => this.json(c)),
      end: Math.max(0, page.length - 1),
      first_page_uri: pageUri,
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      start: 0,
      uri: pageUri,
    };
  }

  /** An update: cancel a call not yet answered, complete one not yet ended, or redirect one in progress. */
  update(call: StandinCall, form: Map<string, string[]>, at: Date): CallsReply {
    const status = last(form, 'Status');
    const redirect = form.has('Twiml') || form.has('Url');
    if (redirect && FINAL_STATUSES.has(call.status)) {
      return { status: 400, body: twilioError(400, 21220, 'Call is not in-progress. Cannot redirect.') };
    }
    if (status === 'canceled' && (call.status === 'queued' || call.status === 'ringing')) call.status = 'canceled';
    if (status === 'completed' && !FINAL_STATUSES.has(call.status)) call.status = 'completed';
    call.updates.push(Object.fromEntries([...form].map(([k, vs]) => [k, vs.at(-1) ?? ''])));
    call.updatedAt = at;
    return { status: 200, body: this.json(call) };
  }
}

/**
 * List filters as twilio-node sends them: To, From, Status, StartTime / StartTime> / StartTime<
 * (on, on or after, on or before; `YYYY-MM-DD` or `YYYY-MM-DDTHH:mm:ssZ`). The stand-in's calls
 * never get a start_time, so StartTime filters apply to the creation time.
 */
function matchesFilters(c: StandinCall, q: (name: string) => string | undefined): boolean {
  const to = q('To');
  const from = q('From');
  const status = q('Status');
  if (to !== undefined && c.to !== to) return false;
  if (from !== undefined && c.from !== from) return false;
  if (status !== undefined && c.status !== status) return false;
  const t = c.createdAt.getTime();
  const bound = (v: string, edge: 'start' | 'end') => {
    const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
    const ms = Date.parse(dayOnly ? `${v}T00:00:00Z` : v);
    if (Number.isNaN(ms)) return NaN;
    if (dayOnly) return edge === 'start' ? ms : ms + 86_400_000 - 1;
    // Twilio's filters are to the second: a call at 12:00:00.400 is "at" 12:00:00.
    return edge === 'start' ? ms : ms + 999;
  };
  const on = q('StartTime');
  const after = q('StartTime>');
  const before = q('StartTime<');
  if (on !== undefined && !(t >= bound(on, 'start') && t <= bound(on, 'end'))) return false;
  if (after !== undefined && !(t >= bound(after, 'start'))) return false;
  if (before !== undefined && !(t <= bound(before, 'end'))) return false;
  return true;
}
