// Tenants, their contact lists, counts and outbound status (SPEC §7).
import { ContactList, ContactListReply, CountsReply, OutboundStatus, SuspendedPage, TenantBody, TenantId, TenantPage, TenantView, problemResponses } from '@abuse-desk/contracts';
import { bucketsBetween, contactView, getTenant, listTenants, outboundView, replaceContacts, suspendedTenants, suspendingTicketNumber, tenantDetail, upsertTenant } from '@abuse-desk/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { requireRole } from '../auth.js';
import { badRequest, notFound } from '../problems.js';

const Params = z.object({ tenantId: TenantId });

export const tenantRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { db } = deps;
  const mustFind = async (id: string) => {
    const t = await getTenant(db, id);
    if (!t) throw notFound(`tenant ${id}`);
    return t;
  };

  app.put('/v1/tenants/:tenantId', { onRequest: requireRole(db, 'admin'), schema: { tags: ['tenants'], operationId: 'putTenant', summary: 'Create or update a tenant', params: Params, body: TenantBody, response: { 200: TenantView, ...problemResponses(400, 401, 403) } } }, async (request) => {
    const t = await upsertTenant(db, request.params.tenantId, request.body, deps.clock.now());
    return tenantDetail(db, t, deps.clock.now());
  });

  app.get(
    '/v1/tenants',
    {
      onRequest: requireRole(db, 'agent'),
      schema: {
        tags: ['tenants'],
        operationId: 'listTenants',
        summary: 'List tenants with outbound status and open ticket',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), after: TenantId.optional() }),
        response: { 200: TenantPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const rows = await listTenants(db, { after: request.query.after, limit: request.query.limit });
      const items = await Promise.all(rows.map((t) => tenantDetail(db, t, deps.clock.now())));
      return { items, nextAfter: rows.length === request.query.limit ? rows[rows.length - 1]!.id : null };
    },
  );

  app.get('/v1/tenants/:tenantId', { onRequest: requireRole(db, 'agent'), schema: { tags: ['tenants'], operationId: 'getTenant', summary: 'A tenant with contacts, outbound status and open ticket', params: Params, response: { 200: TenantView, ...problemResponses(400, 401, 403, 404) } } }, async (request) =>
    tenantDetail(db, await mustFind(request.params.tenantId), deps.clock.now()),
  );

  app.put(
    '/v1/tenants/:tenantId/contacts',
    { onRequest: requireRole(db, 'admin'), schema: { tags: ['tenants'], operationId: 'replaceContacts', summary: 'Replace the ordered contact list', params: Params, body: ContactList, response: { 200: ContactListReply, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => {
      await mustFind(request.params.tenantId);
      const rows = await replaceContacts(db, request.params.tenantId, request.body);
      request.log.info({ tenantId: request.params.tenantId, contacts: rows.length }, 'tenant.contacts.replaced');
      return { tenantId: request.params.tenantId, contacts: rows.map(contactView) };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/counts',
    {
      onRequest: requireRole(db, 'agent'),
      schema: {
        tags: ['tenants'],
        operationId: 'getTenantCounts',
        summary: 'Per-minute verdict buckets (event time)',
        params: Params,
        querystring: z.object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional() }),
        response: { 200: CountsReply, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await mustFind(request.params.tenantId);
      const to = request.query.to ? new Date(request.query.to) : deps.clock.now();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 3600_000);
      if (from >= to) throw badRequest('from must be before to', [{ field: 'querystring.from', message: 'must be before to' }]);
      if (to.getTime() - from.getTime() > 7 * 86400_000) throw badRequest('at most 7 days at a time', [{ field: 'querystring.from', message: 'the range may span at most 7 days' }]);
      return { tenantId: request.params.tenantId, from: from.toISOString(), to: to.toISOString(), buckets: await bucketsBetween(db, request.params.tenantId, from, to) };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/outbound',
    {
      onRequest: requireRole(db, 'agent', 'ingest'),
      schema: {
        tags: ['tenants'],
        operationId: 'getOutboundStatus',
        summary: 'Whether the tenant may send outbound mail (what an MTA asks)',
        params: Params,
        response: { 200: OutboundStatus, 304: z.null().describe('Not modified: the status behind If-None-Match still holds'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const t = await mustFind(request.params.tenantId);
      const ticketNumber = t.outbound_enabled ? null : await suspendingTicketNumber(db, t);
      // MTAs poll this: the ETag changes with every suspension or reinstatement (its sequence), so an
      // unchanged status costs them a 304 and no body.
      const etag = `"${String(t.enforcement_seq)}-${t.outbound_enabled ? 'enabled' : 'disabled'}"`;
      reply.header('etag', etag).header('cache-control', 'no-cache');
      const inm = request.headers['if-none-match'];
      if (inm && inm.split(',').map((s) => s.trim()).includes(etag)) return reply.code(304).send(null);
      return outboundView(t, ticketNumber);
    },
  );

  app.get(
    '/v1/outbound/suspended',
    {
      onRequest: requireRole(db, 'agent', 'ingest'),
      schema: {
        tags: ['tenants'],
        operationId: 'listSuspendedTenants',
        summary: 'Every tenant whose outbound mail is disabled (an MTA builds its block list from this)',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(500), cursor: TenantId.optional() }),
        response: { 200: SuspendedPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      return suspendedTenants(db, request.query);
    },
  );
};
