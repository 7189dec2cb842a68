// The OpenAPI document is generated from the routes' schemas (packages/contracts): every operation must
// say who it is (operationId), what it answers on success, and which problems it can answer with — so a
// route that loses its response schema or its problem responses fails here, not in a client.
import t from 'tap';
import { openTestApi } from './test-app.js';

interface Operation {
  operationId?: string;
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  security?: unknown[];
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** The operations of SPEC §7 that the document must describe (the Twilio webhooks, the resolution page and the UI stay out). */
const EXPECTED = [
  'GET /v1/session',
  'POST /v1/session',
  'DELETE /v1/session',
  'POST /v1/tokens',
  'GET /v1/tokens',
  'DELETE /v1/tokens/{id}',
  'POST /v1/tokens/{id}/rotate',
  'PUT /v1/tenants/{tenantId}',
  'GET /v1/tenants',
  'GET /v1/tenants/{tenantId}',
  'PUT /v1/tenants/{tenantId}/contacts',
  'GET /v1/tenants/{tenantId}/counts',
  'GET /v1/tenants/{tenantId}/outbound',
  'GET /v1/outbound/suspended',
  'GET /v1/policy',
  'PUT /v1/policy',
  'GET /v1/tenants/{tenantId}/policy',
  'PUT /v1/tenants/{tenantId}/policy',
  'DELETE /v1/tenants/{tenantId}/policy',
  'POST /v1/verdicts',
  'POST /v1/complaints',
  'GET /v1/complaints',
  'GET /v1/tenants/{tenantId}/ips',
  'PUT /v1/tenants/{tenantId}/ips',
  'GET /v1/tickets',
  'GET /v1/tickets/{id}',
  ...['contact-reached', 'notes', 'extend', 'suspend', 'reject-resolution', 'resolve', 'dismiss'].map((a) => `POST /v1/tickets/{id}/${a}`),
  'GET /v1/call-queue',
  'GET /v1/dead-letters',
  'POST /v1/resolutions',
];

t.test('the OpenAPI document', async (t) => {
  const api = await openTestApi(t, 'pglite');
  const r = await api.request('GET', '/openapi.json', { as: null });
  t.equal(r.status, 200);
  const doc = r.body as Document;
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, op })));

  t.test('describes every operation of the API and none of the hidden routes', async (t) => {
    t.same(operations.map((o) => o.name).sort(), [...EXPECTED].sort());
  });

  t.test('every operation has a unique camelCase operationId', async (t) => {
    const ids = operations.map((o) => o.op.operationId);
    for (const [i, o] of operations.entries()) t.match(ids[i], /^[a-z][A-Za-z0-9]+$/, `${o.name} has an operationId`);
    t.equal(new Set(ids).size, ids.length, 'no two operations share an operationId');
  });

  t.test('every operation declares the JSON schema of its success response', async (t) => {
    for (const { name, op } of operations) {
      const success = Object.keys(op.responses).filter((code) => /^2\d\d$/.test(code));
      // One success answer, except sign-out: 204, or 200 with the provider's sign-out URL (OIDC_SIGN_OUT_AT_PROVIDER).
      t.equal(success.length, name === 'DELETE /v1/session' ? 2 : 1, `${name} has ${name === 'DELETE /v1/session' ? 'two success responses' : 'one success response'}`);
      for (const code of success) {
        if (code === '204') continue; // no body
        t.ok(op.responses[code]!.content?.['application/json']?.schema?.$ref, `${name} answers ${code} with a named schema`);
      }
    }
  });

  t.test('every 4xx response is an RFC 9457 problem, and the problems each operation can meet are listed', async (t) => {
    for (const { name, path, op } of operations) {
      const problems = Object.keys(op.responses).filter((code) => /^4\d\d$/.test(code));
      for (const code of problems) {
        t.same(Object.keys(op.responses[code]!.content ?? {}), ['application/problem+json'], `${name} ${code} is application/problem+json`);
        t.equal(op.responses[code]!.content?.['application/problem+json']?.schema?.$ref, '#/components/schemas/Problem', `${name} ${code} uses the Problem schema`);
      }
      const authenticated = !(Array.isArray(op.security) && op.security.length === 0);
      const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      const expected = [
        ...(takesInput ? ['400'] : []),
        ...(authenticated ? ['401', '403'] : []),
        // A path naming a tenant or ticket may name one that does not exist — except the PUT that creates it.
        ...(/\{(tenantId|id)\}/.test(path) && name !== 'PUT /v1/tenants/{tenantId}' ? ['404'] : []),
        ...(/^POST \/v1\/tickets\/\{id\}\/(?!notes$)/.test(name) || name === 'POST /v1/resolutions' ? ['409'] : []),
        ...(name === 'POST /v1/resolutions' ? ['404', '429'] : []),
        // The UI's sign-in needs no credentials but refuses a bad token; sign-out refuses a live session without its CSRF token.
        ...(name === 'POST /v1/session' ? ['401', '403', '415'] : []),
        ...(name === 'DELETE /v1/session' ? ['403'] : []),
        // A raw report: the body is the message itself (no JSON schema), refused when empty, too large or of another type.
        ...(name === 'POST /v1/complaints' ? ['400', '413', '415'] : []),
        // The same range assigned to another tenant for an overlapping period.
        ...(name === 'PUT /v1/tenants/{tenantId}/ips' ? ['409'] : []),
      ];
      t.same(problems.sort(), [...new Set(expected)].sort(), `${name} lists the problems it can answer with`);
    }
  });

  t.test('every schema reference resolves', async (t) => {
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    t.ok(refs.length > 0);
    for (const name of new Set(refs)) t.ok(doc.components.schemas[name], `${name} is defined`);
  });
});
