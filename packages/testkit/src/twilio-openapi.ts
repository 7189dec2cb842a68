// Checks each request the stand-in receives against Twilio's own OpenAPI description of its API,
// shipped in `@twilio-alpha/mcp` (twilio-oai/spec/json/twilio_api_v2010.json): parameter names, enums,
// types, patterns, lengths, ranges and formats of Calls create, update, list and fetch and of Messages
// create, list and fetch; the 400 Twilio answers to a request that breaks it; and, for tests, whether
// a JSON answer has exactly the fields and types the spec gives the operation's response.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsoluteHttpUrl, parseTwilioDate, twilioError, type TwilioReply } from './twilio-json.js';

interface OaiSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: string[];
  items?: OaiSchema;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  'x-twilio'?: { ignoreFormat?: boolean };
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
  responses?: Record<string, { content?: Record<string, { schema: OaiSchema }> }>;
}
interface OaiDocument {
  paths: Record<string, Record<string, OaiOperation>>;
  components: { schemas: Record<string, OaiSchema> };
}


/** One way a request departs from the spec: the parameter concerned (none for the body's encoding) and why. */
export interface SpecProblem {
  param: string | undefined;
  kind: 'missing' | 'undeclared' | 'invalid';
  text: string;
}

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

function checkValue(opId: string, name: string, prop: OaiSchema, schema: OaiSchema, v: string): SpecProblem[] {
  const problems: string[] = [];
  const allowed = allowedValues(prop, schema);
  if (allowed && !allowed.values.includes(v)) {
    const where = allowed.from === 'enum' ? '' : " (values listed in the spec's description)";
    problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not one of ${allowed.values.join(', ')}${where}`);
  }
  if (schema.type === 'integer' && !/^-?\d+$/.test(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not an integer`);
  if (schema.type === 'number' && !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not a number`);
  if ((schema.type === 'integer' || schema.type === 'number') && schema.minimum !== undefined && Number(v) < schema.minimum) problems.push(`${opId}: ${name}=${v} is below the minimum ${schema.minimum}`);
  if ((schema.type === 'integer' || schema.type === 'number') && schema.maximum !== undefined && Number(v) > schema.maximum) problems.push(`${opId}: ${name}=${v} is above the maximum ${schema.maximum}`);
  if (schema.type === 'boolean' && v !== 'true' && v !== 'false') problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not a boolean (true or false)`);
  if (schema.pattern && !new RegExp(schema.pattern).test(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} does not match ${schema.pattern}`);
  if (schema.minLength !== undefined && v.length < schema.minLength) problems.push(`${opId}: ${name} is shorter than ${schema.minLength}`);
  if (schema.maxLength !== undefined && v.length > schema.maxLength) problems.push(`${opId}: ${name} is longer than ${schema.maxLength}`);
  // MediaUrl's items are format uri with x-twilio.ignoreFormat: not checked here (twilio-messages.ts refuses
  // one that is no http(s) URL with Twilio's 21620, a rule of Twilio's rather than of the spec).
  if (schema.format === 'uri' && !schema['x-twilio']?.ignoreFormat && !isAbsoluteHttpUrl(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not an absolute http(s) URL`);
  if (schema.format === 'date-time' && Number.isNaN(parseTwilioDate(v).ms)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not a date (YYYY-MM-DD, ISO 8601 or RFC 2822)`);
  return problems.map((text) => ({ param: name, kind: 'invalid' as const, text }));
}

/** Problems of a form body against the operation's requestBody schema. */
function checkForm(op: OaiOperation, form: Map<string, string[]>): SpecProblem[] {
  const schema = formSchema(op);
  const props = schema.properties ?? {};
  const problems: SpecProblem[] = [];
  for (const name of schema.required ?? []) {
    if (!form.has(name)) problems.push({ param: name, kind: 'missing', text: `${op.operationId}: required parameter ${name} is missing` });
  }
  for (const [name, values] of form) {
    const prop = props[name];
    if (!prop) {
      problems.push({ param: name, kind: 'undeclared', text: `${op.operationId}: parameter ${name} is not declared in the spec` });
      continue;
    }
    const resolved = deref(prop);
    if (resolved.type === 'array') {
      const items = deref(resolved.items ?? {});
      for (const v of values) problems.push(...checkValue(op.operationId, name, prop, items, v));
    } else {
      if (values.length > 1) problems.push({ param: name, kind: 'invalid', text: `${op.operationId}: ${name} was sent ${values.length} times but is not an array parameter` });
      for (const v of values) problems.push(...checkValue(op.operationId, name, prop, resolved, v));
    }
  }
  return problems;
}

/** Problems of a query string against the operation's declared query parameters. */
function checkQuery(op: OaiOperation, query: Map<string, string[]>): SpecProblem[] {
  const declared = new Map((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p]));
  const problems: SpecProblem[] = [];
  for (const [name, values] of query) {
    const p = declared.get(name);
    if (!p) {
      problems.push({ param: name, kind: 'undeclared', text: `${op.operationId}: query parameter ${name} is not declared in the spec` });
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

/** The resources the stand-in serves. */
export type TwilioResource = 'calls' | 'messages';

/** What a request to the stand-in is, by path and method. */
export type RouteKind = 'create' | 'list' | 'update' | 'fetch' | 'other';
/** The name RouteKind had when the stand-in served only Calls. */
export type CallsRoute = RouteKind;

const RESOURCES: Record<TwilioResource, { listPath: string; instancePath: string; updates: boolean }> = {
  calls: { listPath: '/2010-04-01/Accounts/{AccountSid}/Calls.json', instancePath: '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json', updates: true },
  // UpdateMessage (redact a body, cancel a scheduled message) is in the spec but not served: 405.
  messages: { listPath: '/2010-04-01/Accounts/{AccountSid}/Messages.json', instancePath: '/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json', updates: false },
};

/** The spec's operations of one resource; `update` only where the stand-in serves it. */
export interface ResourceOperations {
  resource: TwilioResource;
  create: OaiOperation;
  list: OaiOperation;
  fetch: OaiOperation;
  update: OaiOperation | undefined;
}
export type CallOperations = ResourceOperations;

/** The operations of a resource in the spec; throws at once if the spec lacks one. */
export function resourceOperations(resource: TwilioResource): ResourceOperations {
  const { listPath, instancePath, updates } = RESOURCES[resource];
  return {
    resource,
    create: operation(listPath, 'post'),
    list: operation(listPath, 'get'),
    fetch: operation(instancePath, 'get'),
    update: updates ? operation(instancePath, 'post') : undefined,
  };
}

/** The Calls operations of the spec (CreateCall, ListCall, FetchCall, UpdateCall). */
export const callOperations = (): ResourceOperations => resourceOperations('calls');
/** The Messages operations of the spec (CreateMessage, ListMessage, FetchMessage). */
export const messageOperations = (): ResourceOperations => resourceOperations('messages');

/** A request's place among the stand-in's resources: which, what it does, the account and SID in its path. */
export interface MatchedRoute {
  resource: TwilioResource;
  kind: RouteKind;
  accountSid: string;
  sid: string | undefined;
}

const pathRegExp = (template: string) =>
  new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{AccountSid\}|\{Sid\}/g, '([^/]+)')}$`);
const ROUTES = (Object.keys(RESOURCES) as TwilioResource[]).map((resource) => ({
  resource,
  list: pathRegExp(RESOURCES[resource].listPath),
  instance: pathRegExp(RESOURCES[resource].instancePath),
  updates: RESOURCES[resource].updates,
}));

/** The route of a request by method and path (as the spec's paths name them); undefined for any other path. */
export function routeOf(method: string, pathname: string): MatchedRoute | undefined {
  for (const r of ROUTES) {
    const list = r.list.exec(pathname);
    if (list) return { resource: r.resource, kind: method === 'POST' ? 'create' : method === 'GET' ? 'list' : 'other', accountSid: list[1] ?? '', sid: undefined };
    const one = r.instance.exec(pathname);
    if (one) return { resource: r.resource, kind: method === 'GET' ? 'fetch' : method === 'POST' && r.updates ? 'update' : 'other', accountSid: one[1] ?? '', sid: one[2] };
  }
  return undefined;
}

const formOperation = (ops: ResourceOperations, route: RouteKind) => (route === 'create' ? ops.create : route === 'update' ? ops.update : undefined);

/** Where a request's query and form parameters depart from the spec; empty when they conform. */
export function specProblemsOf(ops: ResourceOperations, route: RouteKind, query: Map<string, string[]>, form: Map<string, string[]>): SpecProblem[] {
  const formOp = formOperation(ops, route);
  const problems: SpecProblem[] = [];
  if (formOp) problems.push(...checkForm(formOp, form));
  if (route === 'list') problems.push(...checkQuery(ops.list, query));
  if (route === 'fetch' && query.size > 0) {
    problems.push(...[...query.keys()].map((name) => ({ param: name, kind: 'undeclared' as const, text: `${ops.fetch.operationId}: takes no query parameters, got ${name}` })));
  }
  return problems;
}

interface DocumentedRefusal {
  code: number;
  title: string;
  applies: (route: RouteKind, p: SpecProblem) => boolean;
}

/**
 * One deliberate difference: Twilio ignores a parameter it does not know and only logs warning 20001
 * ("Unknown parameters … were ignored"). The stand-in refuses it with that code, so that a misspelt
 * parameter — which production would silently drop — fails the test that sent it.
 */
const UNKNOWN_PARAMETERS: DocumentedRefusal = { code: 20001, title: 'Unknown parameters', applies: (_r, p) => p.kind === 'undeclared' };

/**
 * The error codes Twilio documents for a create it refuses (twilio.com/docs/errors/<code>), by resource
 * and the parameter at fault. Anything else gets Twilio's generic 400 "Bad Request".
 */
const DOCUMENTED_REFUSALS: Record<TwilioResource, DocumentedRefusal[]> = {
  calls: [
    { code: 21201, title: "No 'To' number is specified", applies: (r, p) => r === 'create' && p.kind === 'missing' && p.param === 'To' },
    { code: 21213, title: "No 'From' number is specified", applies: (r, p) => r === 'create' && p.kind === 'missing' && p.param === 'From' },
    UNKNOWN_PARAMETERS,
    { code: 21205, title: 'Invalid URL', applies: (r, p) => r === 'create' && p.param === 'Url' },
    { code: 21208, title: 'Invalid Timeout', applies: (r, p) => r === 'create' && p.param === 'Timeout' },
    { code: 21234, title: 'Invalid Machine Detection configuration value', applies: (r, p) => r === 'create' && /^(MachineDetection|AsyncAmd)/.test(p.param ?? '') },
  ],
  messages: [
    { code: 21604, title: "A 'To' phone number is required", applies: (r, p) => r === 'create' && p.kind === 'missing' && p.param === 'To' },
    UNKNOWN_PARAMETERS,
    // 21705: Twilio's code for a MessagingServiceSid that does not match the MG + 32 hex pattern.
    { code: 21705, title: 'The Messaging Service is invalid', applies: (r, p) => r === 'create' && p.param === 'MessagingServiceSid' },
    { code: 21609, title: "Invalid 'StatusCallback'", applies: (r, p) => r === 'create' && p.param === 'StatusCallback' },
    { code: 35126, title: 'The ScheduleType value provided is not supported', applies: (r, p) => r === 'create' && p.param === 'ScheduleType' },
  ],
};

/**
 * Twilio's answer to a request that breaks the spec: 400 with the code of the first problem (Twilio
 * reports one), its message naming every problem, so a test's failure says what to fix.
 */
export function specRefusal(route: RouteKind, problems: SpecProblem[], resource: TwilioResource = 'calls'): TwilioReply {
  const first = problems[0];
  if (!first) throw new Error('specRefusal: no problem to refuse');
  const { code, title } = DOCUMENTED_REFUSALS[resource].find((r) => r.applies(route, first)) ?? { code: 400, title: 'Bad Request' };
  return { status: 400, body: twilioError(400, code, `${title}: ${problems.map((p) => p.text).join('; ')}`) };
}

/** Query and form parameters as recorded: repeated ones, and array parameters of the spec, as arrays. */
export function recordedParams(ops: ResourceOperations, route: RouteKind, query: Map<string, string[]>, form: Map<string, string[]>): Record<string, string | string[]> {
  const formOp = formOperation(ops, route);
  const params: Record<string, string | string[]> = {};
  for (const [k, vs] of [...query, ...form]) {
    params[k] = vs.length > 1 || (formOp !== undefined && form.has(k) && isArrayParam(formOp, k)) ? vs : (vs[0] ?? '');
  }
  return params;
}

const RFC_2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

function checkJson(schema: OaiSchema, value: unknown, at: string): string[] {
  const s = deref(schema);
  if (value === null) return s.nullable ? [] : [`${at} is null, which the spec does not allow`];
  const kind = Array.isArray(value) ? 'array' : typeof value;
  switch (s.type) {
    case 'string': {
      if (typeof value !== 'string') return [`${at} is ${kind}, not a string`];
      const problems: string[] = [];
      if (s.enum && !s.enum.includes(value)) problems.push(`${at}=${JSON.stringify(value)} is not one of ${s.enum.join(', ')}`);
      if (s.pattern && !new RegExp(s.pattern).test(value)) problems.push(`${at}=${JSON.stringify(value)} does not match ${s.pattern}`);
      if (s.minLength !== undefined && value.length < s.minLength) problems.push(`${at} is shorter than ${s.minLength}`);
      if (s.maxLength !== undefined && value.length > s.maxLength) problems.push(`${at} is longer than ${s.maxLength}`);
      if (s.format === 'date-time-rfc-2822' && !RFC_2822.test(value)) problems.push(`${at}=${JSON.stringify(value)} is not RFC 2822 as Twilio writes it`);
      return problems;
    }
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at} is ${JSON.stringify(value)}, not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at} is ${kind}, not a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at} is ${kind}, not a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at} is ${kind}, not an array`];
      return value.flatMap((v, i) => checkJson(s.items ?? {}, v, `${at}[${i}]`));
    case 'object': {
      if (kind !== 'object') return [`${at} is ${kind}, not an object`];
      if (!s.properties) return [];
      const obj = value as Record<string, unknown>;
      const problems: string[] = [];
      for (const name of Object.keys(s.properties)) if (!(name in obj)) problems.push(`${at}.${name} is missing`);
      for (const [name, v] of Object.entries(obj)) {
        const prop = s.properties[name];
        if (!prop) problems.push(`${at}.${name} is not in the spec`);
        else problems.push(...checkJson(prop, v, `${at}.${name}`));
      }
      return problems;
    }
    default:
      return [];
  }
}

/**
 * Where a JSON answer departs from the response the spec declares for the operation and status: fields
 * missing or not in the spec, types, enums, patterns, RFC 2822 dates. For tests of the stand-in itself.
 */
export function responseProblemsOf(ops: ResourceOperations, route: RouteKind, status: number, body: unknown): string[] {
  const op = route === 'create' ? ops.create : route === 'list' ? ops.list : route === 'fetch' ? ops.fetch : route === 'update' ? ops.update : undefined;
  if (!op) return [`${ops.resource}: the stand-in serves no ${route}`];
  const schema = op.responses?.[String(status)]?.content?.['application/json']?.schema;
  if (!schema) return [`${op.operationId} declares no ${status} JSON response`];
  return checkJson(schema, body, op.operationId);
}
