// A local stand-in of Twilio's REST API (2010-04-01 Calls) for tests (TESTING.md, Twilio row): the
// real `twilio` client is pointed at it, it answers like Twilio does, records every request and
// checks each create/update against Twilio's own OpenAPI description shipped in
// `@twilio-alpha/mcp` (twilio-oai/spec/json/twilio_api_v2010.json). Also: `signedPost` sends a
// callback signed exactly as Twilio signs them, and `createTwilioClient` is the pattern the
// product uses to point the real client at a base URL.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

// ---------------------------------------------------------------------------------------------
// The client: twilio-node has no base-URL option, so a RequestClient rewrites the origin.

const TWILIO_API_ORIGIN = 'https://api.twilio.com';

class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #apiBaseUrl: string | undefined;

  constructor(apiBaseUrl: string | undefined, opts: RequestClient.RequestClientOptions) {
    super(opts);
    this.#apiBaseUrl = apiBaseUrl?.replace(/\/+$/, '');
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    // BaseTwilio has already made the URI absolute (`https://api.twilio.com/2010-04-01/…`);
    // list filters travel separately in `opts.params`, next-page URIs come through here too.
    if (this.#apiBaseUrl !== undefined && opts.uri.startsWith(`${TWILIO_API_ORIGIN}/`)) {
      opts = { ...opts, uri: this.#apiBaseUrl + opts.uri.slice(TWILIO_API_ORIGIN.length) };
    }
    return super.request<TData>(opts);
  }
}

export interface CreateTwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** e.g. `http://127.0.0.1:PORT` (TWILIO_API_BASE_URL); requests to https://api.twilio.com go there instead. */
  apiBaseUrl?: string;
  /** Per-request timeout. With a custom httpClient, twilio()'s own `timeout` option is ignored, so it goes here. */
  timeoutMs?: number;
}

export function createTwilioClient(opts: CreateTwilioClientOptions): twilio.Twilio {
  const httpClient = new BaseUrlRequestClient(opts.apiBaseUrl, opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs });
  return twilio(opts.accountSid, opts.authToken, { httpClient });
}

/** The real twilio client, with the stand-in's credentials, pointed at the stand-in. */
export function twilioClientFor(standin: Pick<TwilioStandin, 'baseUrl' | 'accountSid' | 'authToken'>, opts: { timeoutMs?: number } = {}): twilio.Twilio {
  return createTwilioClient({ accountSid: standin.accountSid, authToken: standin.authToken, apiBaseUrl: standin.baseUrl, ...opts });
}

// ---------------------------------------------------------------------------------------------
// Callbacks signed as Twilio signs them.

export interface SignedPostResult {
  status: number;
  body: string;
  contentType: string | null;
}

/**
 * POSTs `params` form-encoded to `url` with `X-Twilio-Signature` computed as Twilio does
 * (HMAC-SHA1 over the URL and the sorted params, keyed with the auth token). `headers` adds
 * more, e.g. `I-Twilio-Idempotency-Token`.
 */
export async function signedPost(url: string, params: Record<string, string>, authToken: string, headers: Record<string, string> = {}): Promise<SignedPostResult> {
  const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI check.

interface OaiSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: string[];
  items?: OaiSchema;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  description?: string;
  properties?: Record<string, OaiSchema>;
  required?: string[];
}
interface OaiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: OaiSchema;
}
interface OaiOperation {
  operationId: string;
  parameters?: OaiParameter[];
  requestBody?: { content: Record<string, { schema: OaiSchema }> };
}
interface OaiDocument {
  paths: Record<string, Record<string, OaiOperation>>;
  components: { schemas: Record<string, OaiSchema> };
}

const CALLS_PATH = '/2010-04-01/Accounts/{AccountSid}/Calls.json';
const CALL_PATH = '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json';

let spec: OaiDocument | undefined;
function loadSpec(): OaiDocument {
  if (!spec) {
    const file = createRequire(import.meta.url).resolve('@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json');
    spec = JSON.parse(readFileSync(file, 'utf8')) as OaiDocument;
  }
  return spec;
}

function operation(path: string, method: 'get' | 'post'): OaiOperation {
  const op = loadSpec().paths[path]?.[method];
  if (!op) throw new Error(`twilio_api_v2010.json has no ${method.toUpperCase()} ${path}`);
  return op;
}

function deref(schema: OaiSchema): OaiSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
  const target = loadSpec().components.schemas[name];
  if (!target) throw new Error(`twilio_api_v2010.json: unresolved ${schema.$ref}`);
  return deref(target);
}

function formSchema(op: OaiOperation): OaiSchema {
  const schema = op.requestBody?.content['application/x-www-form-urlencoded']?.schema;
  if (!schema) throw new Error(`twilio_api_v2010.json: ${op.operationId} has no form request body`);
  return deref(schema);
}

/**
 * Allowed values: the schema's enum, or, where the spec leaves the type a bare string, the values
 * its description lists as "Can be: `a`, `b` or `c`" (MachineDetection, AsyncAmd,
 * StatusCallbackEvent, Trim, RecordingChannels, RecordingTrack, RecordingStatusCallbackEvent).
 */
function allowedValues(prop: OaiSchema, value: OaiSchema): { values: string[]; from: 'enum' | 'description' } | undefined {
  if (value.enum) return { values: value.enum, from: 'enum' };
  if (value.type !== 'string') return undefined;
  const listed = prop.description?.match(/Can be:\s*((?:`[^`]+`[\s,]*(?:and|or)?\s*)+)/);
  if (!listed?.[1]) return undefined;
  return { values: [...listed[1].matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''), from: 'description' };
}

function checkValue(opId: string, name: string, prop: OaiSchema, schema: OaiSchema, v: string): string[] {
  const problems: string[] = [];
  const allowed = allowedValues(prop, schema);
  if (allowed && !allowed.values.includes(v)) {
    const where = allowed.from === 'enum' ? '' : " (values listed in the spec's description)";
    problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not one of ${allowed.values.join(', ')}${where}`);
  }
  if (schema.type === 'integer' && !/^-?\d+$/.test(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not an integer`);
  if (schema.type === 'boolean' && v !== 'true' && v !== 'false') problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not a boolean (true or false)`);
  if (schema.pattern && !new RegExp(schema.pattern).test(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} does not match ${schema.pattern}`);
  if (schema.minLength !== undefined && v.length < schema.minLength) problems.push(`${opId}: ${name} is shorter than ${schema.minLength}`);
  if (schema.maxLength !== undefined && v.length > schema.maxLength) problems.push(`${opId}: ${name} is longer than ${schema.maxLength}`);
  if (schema.format === 'uri' && !isAbsoluteHttpUrl(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not an absolute http(s) URL`);
  return problems;
}

function isAbsoluteHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Problems of a form body against the operation's requestBody schema. */
function checkForm(op: OaiOperation, form: Map<string, string[]>): string[] {
  const schema = formSchema(op);
  const props = schema.properties ?? {};
  const problems: string[] = [];
  for (const name of schema.required ?? []) {
    if (!form.has(name)) problems.push(`${op.operationId}: required parameter ${name} is missing`);
  }
  for (const [name, values] of form) {
    const prop = props[name];
    if (!prop) {
      problems.push(`${op.operationId}: parameter ${name} is not declared in the spec`);
      continue;
    }
    const resolved = deref(prop);
    if (resolved.type === 'array') {
      const items = deref(resolved.items ?? {});
      for (const v of values) problems.push(...checkValue(op.operationId, name, prop, items, v));
    } else {
      if (values.length > 1) problems.push(`${op.operationId}: ${name} was sent ${values.length} times but is not an array parameter`);
      for (const v of values) problems.push(...checkValue(op.operationId, name, prop, resolved, v));
    }
  }
  return problems;
}

/** Problems of a query string against the operation's declared query parameters. */
function checkQuery(op: OaiOperation, query: Map<string, string[]>): string[] {
  const declared = new Map((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p]));
  const problems: string[] = [];
  for (const [name, values] of query) {
    const p = declared.get(name);
    if (!p) {
      problems.push(`${op.operationId}: query parameter ${name} is not declared in the spec`);
      continue;
    }
    if (p.schema) for (const v of values) problems.push(...checkValue(op.operationId, name, p.schema, deref(p.schema), v));
  }
  return problems;
}

function isArrayParam(op: OaiOperation, name: string): boolean {
  const prop = formSchema(op).properties?.[name];
  return prop !== undefined && deref(prop).type === 'array';
}

// ---------------------------------------------------------------------------------------------
// The stand-in.

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Query and form parameters; repeated ones (and array parameters of the spec) as arrays. */
  params: Record<string, string | string[]>;
  /** Where the request departs from twilio_api_v2010.json; empty when it conforms. */
  specErrors: string[];
  at: Date;
}

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

export type TwilioStandinFailMode = 'http500' | 'timeout' | 'http400';

export interface TwilioStandin {
  /** `http://127.0.0.1:PORT`; give it to createTwilioClient as apiBaseUrl. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  requests: RecordedRequest[];
  calls: Map<string, StandinCall>;
  /**
   * The next `count` (default 1) Calls.json creates: `http500` creates the call and answers 500;
   * `timeout` creates the call and never answers; `http400` answers 21211 and creates nothing.
   */
  failNext(kind: 'create', mode: TwilioStandinFailMode, count?: number): void;
  close(): Promise<void>;
}

export interface TwilioStandinOptions {
  accountSid?: string;
  authToken?: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** RFC 2822 as Twilio writes it (twilio-node parses exactly `ddd, DD MMM YYYY HH:mm:ss +0000`). */
function rfc2822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

const FINAL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

const CALLS_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const CALL_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

export async function startTwilioStandin(opts: TwilioStandinOptions = {}): Promise<TwilioStandin> {
  const accountSid = opts.accountSid ?? `AC${hex(16)}`;
  const authToken = opts.authToken ?? hex(16);
  const requests: RecordedRequest[] = [];
  const calls = new Map<string, StandinCall>();
  const failures: TwilioStandinFailMode[] = [];
  const createOp = operation(CALLS_PATH, 'post');
  const updateOp = operation(CALL_PATH, 'post');
  const listOp = operation(CALLS_PATH, 'get');

  const callUri = (sid: string) => `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`;
  const callJson = (c: StandinCall) => ({
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
    uri: callUri(c.sid),
    subresource_uris: Object.fromEntries(
      ['notifications', 'recordings', 'payments', 'events', 'siprec', 'streams', 'transcriptions', 'user_defined_message_subscriptions', 'user_defined_messages'].map(
        (r) => [r, `/2010-04-01/Accounts/${accountSid}/Calls/${c.sid}/${r.replace(/(^|_)([a-z])/g, (_m, _u: string, ch: string) => ch.toUpperCase())}.json`],
      ),
    ),
  });

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, path: string) => send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));

  const authorized = (req: IncomingMessage) => {
    const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) return false;
    return Buffer.from(m[1], 'base64').toString('utf8') === `${accountSid}:${authToken}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = new Date();
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');

    // Parameters as sent, every value kept.
    const query = new Map<string, string[]>();
    for (const [k, v] of url.searchParams) query.set(k, [...(query.get(k) ?? []), v]);
    const form = new Map<string, string[]>();
    const specErrors: string[] = [];
    if (body.length > 0) {
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
        specErrors.push(`body sent as ${req.headers['content-type'] ?? 'no content type'}, not application/x-www-form-urlencoded`);
      }
      for (const [k, v] of new URLSearchParams(body)) form.set(k, [...(form.get(k) ?? []), v]);
    }

    const callsMatch = CALLS_RE.exec(url.pathname);
    const callMatch = CALL_RE.exec(url.pathname);
    const route =
      callsMatch && method === 'POST' ? 'create' : callsMatch && method === 'GET' ? 'list' : callMatch && method === 'POST' ? 'update' : callMatch && method === 'GET' ? 'fetch' : 'other';
    const formOp = route === 'create' ? createOp : route === 'update' ? updateOp : undefined;
    if (formOp) specErrors.push(...checkForm(formOp, form));
    if (route === 'list') specErrors.push(...checkQuery(listOp, query));
    if (route === 'fetch' && query.size > 0) specErrors.push(`FetchCall: takes no query parameters, got ${[...query.keys()].join(', ')}`);

    const params: Record<string, string | string[]> = {};
    for (const [k, vs] of [...query, ...form]) {
      params[k] = vs.length > 1 || (formOp !== undefined && form.has(k) && isArrayParam(formOp, k)) ? vs : (vs[0] ?? '');
    }
    requests.push({ method, path: url.pathname, params, specErrors, at });

    if (!authorized(req)) {
      send(res, 401, { ...twilioError(401, 20003, 'Authenticate'), detail: 'Your AccountSid or AuthToken was incorrect.' }, { 'www-authenticate': 'Basic realm="Twilio API"' });
      return;
    }
    const pathAccount = (callsMatch ?? callMatch)?.[1];
    if (route === 'other' || pathAccount !== accountSid) {
      if ((callsMatch || callMatch) && pathAccount === accountSid) {
        send(res, 405, twilioError(405, 20004, 'Method not allowed'));
      } else {
        notFound(res, url.pathname);
      }
      return;
    }
    const one = (name: string) => form.get(name)?.at(-1);

    if (route === 'create') {
      const failure = failures.shift();
      if (failure === 'http400') {
        send(res, 400, twilioError(400, 21211, `Invalid 'To' Phone Number: ${one('To') ?? ''}`));
        return;
      }
      if (!form.has('To') || !form.has('From')) {
        send(res, 400, twilioError(400, 21201, `No '${form.has('To') ? 'From' : 'To'}' number is specified`));
        return;
      }
      const sid = `CA${hex(16)}`;
      const call: StandinCall = { sid, to: one('To') ?? '', from: one('From') ?? '', status: 'queued', params, createdAt: at, updatedAt: at, updates: [] };
      calls.set(sid, call);
      if (failure === 'http500') send(res, 500, twilioError(500, 20500, 'Internal Server Error'));
      else if (failure === 'timeout') held.add(res);
      else send(res, 201, callJson(call));
      return;
    }

    if (route === 'list') {
      const q = (name: string) => query.get(name)?.at(-1);
      const found = [...calls.values()]
        .filter((c) => matchesFilters(c, q))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
      const pageSize = Number(q('PageSize') ?? 50) || 50;
      const page = found.slice(0, pageSize);
      const pageQuery = new URLSearchParams(url.searchParams);
      if (!pageQuery.has('PageSize')) pageQuery.set('PageSize', String(pageSize));
      pageQuery.set('Page', '0');
      const pageUri = `${url.pathname}?${pageQuery.toString()}`;
      send(res, 200, {
        calls: page.map(callJson),
        end: Math.max(0, page.length - 1),
        first_page_uri: pageUri,
        next_page_uri: null,
        page: 0,
        page_size: pageSize,
        previous_page_uri: null,
        start: 0,
        uri: pageUri,
      });
      return;
    }

    const call = calls.get(callMatch?.[2] ?? '');
    if (!call) {
      notFound(res, url.pathname);
      return;
    }
    if (route === 'fetch') {
      send(res, 200, callJson(call));
      return;
    }

    // update
    const status = one('Status');
    const redirect = form.has('Twiml') || form.has('Url');
    if (redirect && FINAL_STATUSES.has(call.status)) {
      send(res, 400, twilioError(400, 21220, 'Call is not in-progress. Cannot redirect.'));
      return;
    }
    if (status === 'canceled' && (call.status === 'queued' || call.status === 'ringing')) call.status = 'canceled';
    if (status === 'completed' && !FINAL_STATUSES.has(call.status)) call.status = 'completed';
    call.updates.push(Object.fromEntries([...form].map(([k, vs]) => [k, vs.at(-1) ?? ''])));
    call.updatedAt = at;
    send(res, 200, callJson(call));
  };

  const held = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, twilioError(500, 20500, `stand-in error: ${err instanceof Error ? err.message : String(err)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    calls,
    failNext(kind, mode, count = 1) {
      if (kind !== 'create') throw new Error(`failNext: unsupported kind ${String(kind)}`);
      for (let i = 0; i < count; i++) failures.push(mode);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of held) res.destroy();
        held.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
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
