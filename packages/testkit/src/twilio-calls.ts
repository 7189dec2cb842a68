// The stand-in's calls: what Calls.json create, list, fetch and update do to them, and the JSON Twilio
// answers with (field names, RFC 2822 dates and sub-resource URIs as twilio-node parses them).
import { hex, last, listPage, newestFirst, rfc2822, twilioError, withinDateFilters, type TwilioReply } from './twilio-json.js';

export { hex, twilioError } from './twilio-json.js';

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
export type CallsReply = TwilioReply;

const FINAL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
const SUBRESOURCES = ['notifications', 'recordings', 'payments', 'events', 'siprec', 'streams', 'transcriptions', 'user_defined_message_subscriptions', 'user_defined_messages'];

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

  /** One page of the calls matching the list filters, newest first (PageSize, Page as Twilio pages them). */
  list(url: URL, query: Map<string, string[]>) {
    const q = (name: string) => last(query, name);
    const found = newestFirst(this.calls.values(), (c) => c.createdAt.getTime()).filter((c) => matchesFilters(c, q));
    return listPage(url, query, 'calls', found, (c) => this.json(c));
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
  return withinDateFilters(c.createdAt.getTime(), q('StartTime'), q('StartTime>'), q('StartTime<'));
}
