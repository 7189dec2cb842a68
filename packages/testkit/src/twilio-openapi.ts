// Checks each request the stand-in receives against Twilio's own OpenAPI description of its API,
// shipped in `@twilio-alpha/mcp` (twilio-oai/spec/json/twilio_api_v2010.json): parameter names, enums,
// types, patterns and lengths of Calls create, update, list and fetch.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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
export function specErrorsOf(ops: CallOperations, route: CallsRoute, query: Map<string, string[]>, form: Map<string, string[]>): string[] {
  const formOp = formOperation(ops, route);
  const problems: string[] = [];
  if (formOp) problems.push(...checkForm(formOp, form));
  if (route === 'list') problems.push(...checkQuery(ops.list, query));
  if (route === 'fetch' && query.size > 0) problems.push(`FetchCall: takes no query parameters, got ${[...query.keys()].join(', ')}`);
  return problems;
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
