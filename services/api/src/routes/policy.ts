// The default policy and per-tenant overrides (SPEC §5). Features that do not exist yet are refused with
// 400, never silently ignored.
import { Policy, PolicyOverride, TenantId, TenantPolicyView, problemResponses } from '@abuse-desk/contracts';
import { deleteOverrideAudited, getDefaultPolicy, getOverride, getTenant, setDefaultPolicy, setOverrideAudited } from '@abuse-desk/db';
import { checkOverride, tenantPolicyView } from '@abuse-desk/domain';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { actorOf, requireRole } from '../auth.js';
import { badRequest, notFound } from '../problems.js';

const Params = z.object({ tenantId: TenantId });

export const policyRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { db } = deps;

  app.get('/v1/policy', { onRequest: requireRole(db, 'agent'), schema: { tags: ['policy'], operationId: 'getDefaultPolicy', summary: 'The default policy', response: { 200: Policy, ...problemResponses(401, 403) } } }, async () => getDefaultPolicy(db));

  app.put('/v1/policy', { onRequest: requireRole(db, 'admin'), schema: { tags: ['policy'], operationId: 'replaceDefaultPolicy', summary: 'Replace the default policy', body: Policy, response: { 200: Policy, ...problemResponses(400, 401, 403) } } }, async (request) => {
    await setDefaultPolicy(db, request.body, actorOf(request), deps.clock.now());
    request.log.info({ policy: request.body }, 'policy.default.changed');
    return request.body;
  });

  const view = async (tenantId: string) => {
    const [base, override] = await Promise.all([getDefaultPolicy(db), getOverride(db, tenantId)]);
    return tenantPolicyView(tenantId, base, override, deps.clock.now());
  };
  const mustExist = async (tenantId: string) => {
    if (!(await getTenant(db, tenantId))) throw notFound(`tenant ${tenantId}`);
  };

  app.get('/v1/tenants/:tenantId/policy', { onRequest: requireRole(db, 'agent'), schema: { tags: ['policy'], operationId: 'getTenantPolicy', summary: "A tenant's override and the policy in force", params: Params, response: { 200: TenantPolicyView, ...problemResponses(400, 401, 403, 404) } } }, async (request) => {
    await mustExist(request.params.tenantId);
    return view(request.params.tenantId);
  });

  app.put(
    '/v1/tenants/:tenantId/policy',
    {
      onRequest: requireRole(db, 'admin'),
      schema: {
        tags: ['policy'],
        operationId: 'setTenantPolicyOverride',
        summary: 'Set the per-tenant override (merged over the default)',
        params: Params,
        body: PolicyOverride,
        response: { 200: TenantPolicyView, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await mustExist(request.params.tenantId);
      const now = deps.clock.now();
      const check = checkOverride(await getDefaultPolicy(db), request.body, now);
      if (!check.ok) throw badRequest(check.detail, check.errors);
      await db.transaction().execute((trx) => setOverrideAudited(trx, request.params.tenantId, request.body, actorOf(request), now));
      request.log.info({ tenantId: request.params.tenantId, override: request.body }, 'policy.override.set');
      return view(request.params.tenantId);
    },
  );

  app.delete('/v1/tenants/:tenantId/policy', { onRequest: requireRole(db, 'admin'), schema: { tags: ['policy'], operationId: 'deleteTenantPolicyOverride', summary: 'Remove the override', params: Params, response: { 204: z.undefined().describe('The override was removed'), ...problemResponses(400, 401, 403, 404) } } }, async (request, reply) => {
    await mustExist(request.params.tenantId);
    const deleted = await db.transaction().execute((trx) => deleteOverrideAudited(trx, request.params.tenantId, actorOf(request), deps.clock.now()));
    if (!deleted) throw notFound(`a policy override for tenant ${request.params.tenantId}`);
    request.log.info({ tenantId: request.params.tenantId }, 'policy.override.deleted');
    return reply.code(204).send();
  });
};
