// Checks each request the stand-in receives against Twilio's own OpenAPI description of its API,
// shipped in `@twilio-alpha/mcp` (twilio-oai/spec/json/twilio_api_v2010.json): parameter names, enums,
// types, patterns and lengths of Calls create, update, list and fetch; and the 400 Twilio answers to a
// request that breaks it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { twilioError, type CallsReply } from './twilio-calls.js';

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


/** One way a request departs from the spec: the parameter concerned (none for the body's encoding) and why. */
export interface SpecProblem {
  param: string | undefined;
  kind: 'missing' | 'undeclared' | 'invalid';
  text: string;
}

const CALLS_PATH = '/2010-04-01/Accounts/{AccountSid}/Calls.json';
const CALL_PATH = '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json';

/** What a request to the stand-in is, by path and method. */
export type CallsRoute = 'create' | 'list' | 'update' | 'fetch' | 'other';

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
  if (schema.type === 'boolean' && v !== 'true' && v !== 'false') problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not a boolean (true or false)`);
  if (schema.pattern && !new RegExp(schema.pattern).test(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} does not match ${schema.pattern}`);
  if (schema.minLength !== undefined && v.length < schema.minLength) problems.push(`${opId}: ${name} is shorter than ${schema.minLength}`);
  if (schema.maxLength !== undefined && v.length > schema.maxLength) problems.push(`${opId}: ${name} is longer than ${schema.maxLength}`);
  if (schema.format === 'uri' && !isAbsoluteHttpUrl(v)) problems.push(`${opId}: ${name}=${JSON.stringify(v)} is not an absolute http(s) URL`);
  return problems.map((text) => ({ param: name, kind: 'invalid' as const, text }));
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

export interface CallOperations {
  create: OaiOperation;
  update: OaiOperation;
  list: OaiOperation;
}

/** The Calls operations of the spec; throws at once if the spec lacks one. */
export function callOperations(): CallOperations {
  return { create: operation(CALLS_PATH, 'post'), update: operation(CALL_PATH, 'post'), list: operation(CALLS_PATH, 'get') };
}

const formOperation = (ops: CallOperations, route: CallsRoute) => (route === 'create' ? ops.create : route === 'update' ? ops.update : undefined);

/** Where a request's query and form parameters depart from the spec; empty when they conform. */
export function specProblemsOf(ops: CallOperations, route: CallsRoute, query: Map<string, string[]>, form: Map<string, string[]>): SpecProblem[] {
  const formOp = formOperation(ops, route);
  const problems: SpecProblem[] = [];
  if (formOp) problems.push(...checkForm(formOp, form));
  if (route === 'list') problems.push(...checkQuery(ops.list, query));
  if (route === 'fetch' && query.size > 0) {
    problems.push(...[...query.keys()].map((name) => ({ param: name, kind: 'undeclared' as const, text: `FetchCall: takes no query parameters, got ${name}` })));
  }
  return problems;
}

/**
 * The error codes Twilio documents for a call create it refuses (twilio.com/docs/errors/<code>), by the
 * parameter at fault. Anything else gets Twilio's generic 400 "Bad Request".
 *
 * One deliberate difference: Twilio ignores a parameter it does not know and only logs warning 20001
 * ("Unknown parameters … were ignored"). The stand-in refuses it with that code, so that a misspelt
 * parameter — which production would silently drop — fails the test that sent it.
 */
const DOCUMENTED_REFUSALS: { code: number; title: string; applies: (route: CallsRoute, p: SpecProblem) => boolean }[] = [
  { code: 21201, title: "No 'To' number is specified", applies: (r, p) => r === 'create' && p.kind === 'missing' && p.param === 'To' },
  { code: 21213, title: "No 'From' number is specified", applies: (r, p) => r === 'create' && p.kind === 'missing' && p.param === 'From' },
  { code: 20001, title: 'Unknown parameters', applies: (_r, p) => p.kind === 'undeclared' },
  { code: 21205, title: 'Invalid URL', applies: (r, p) => r === 'create' && p.param === 'Url' },
  { code: 21208, title: 'Invalid Timeout', applies: (r, p) => r === 'create' && p.param === 'Timeout' },
  { code: 21234, title: 'Invalid Machine Detection configuration value', applies: (r, p) => r === 'create' && /^(MachineDetection|AsyncAmd)/.test(p.param ?? '') },
];

/**
 * Twilio's answer to a request that breaks the spec: 400 with the code of the first problem (Twilio
 * reports one), its message naming every problem, so a test's failure says what to fix.
 */
export function specRefusal(route: CallsRoute, problems: SpecProblem[]): CallsReply {
  const first = problems[0];
  if (!first) throw new Error('specRefusal: no problem to refuse');
  const { code, title } = DOCUMENTED_REFUSALS.find((r) => r.applies(route, first)) ?? { code: 400, title: 'Bad Request' };
  return { status: 400, body: twilioError(400, code, `${title}: ${problems.map((p) => p.text).join('; ')}`) };
}

/** Query and form parameters as recorded: repeated ones, and array parameters of the spec, as arrays. */
export function recordedParams(ops: CallOperations, route: CallsRoute, query: Map<string, string[]>, form: Map<string, string[]>): Record<string, string | string[]> {
  const formOp = formOperation(ops, route);
  const params: Record<string, string | string[]> = {};
  for (const [k, vs] of [...query, ...form]) {
    params[k] = vs.length > 1 || (formOp !== undefined && form.has(k) && isArrayParam(formOp, k)) ? vs : (vs[0] ?? '');
  }
  return params;
}
