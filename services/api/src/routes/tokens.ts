// API tokens (issue 15): an admin creates them (shown once, only the hash is kept), lists them, revokes
// them and rotates them. Every api process reads tokens from the database on each request, so a
// revocation holds everywhere at once. Each change is an audit event.
import { CreatedToken, TokenBody, TokenList, problemResponses } from '@abuse-desk/contracts';
import { createApiToken, listApiTokens, revokeApiToken, rotateApiToken } from '@abuse-desk/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { actorOf, requireRole } from '../auth.js';
import { badRequest, notFound } from '../problems.js';

const Params = z.object({ id: z.uuid() });
const iso = (d: Date | null) => d?.toISOString() ?? null;

export const tokenRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const admin = requireRole(deps.db, 'admin');

  app.post(
    '/v1/tokens',
    {
      onRequest: admin,
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary: 'Create an API token (shown once), optionally expiring',
        body: TokenBody,
        response: { 201: CreatedToken, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const now = deps.clock.now();
      const expiresAt = request.body.expiresAt ? new Date(request.body.expiresAt) : null;
      if (expiresAt && expiresAt <= now) throw badRequest('expiresAt must be in the future', [{ field: 'expiresAt', message: 'must be in the future' }]);
      const { id, token } = await createApiToken(deps.db, request.body.name, request.body.role, { createdBy: actorOf(request), expiresAt, now });
      request.log.info({ tokenId: id, role: request.body.role, expiresAt: iso(expiresAt) }, 'token.created');
      return reply.code(201).send({ id, name: request.body.name, role: request.body.role, token, expiresAt: iso(expiresAt) });
    },
  );

  app.get(
    '/v1/tokens',
    {
      onRequest: admin,
      schema: { tags: ['tokens'], operationId: 'listTokens', summary: 'Every API token, newest first (never the token itself)', response: { 200: TokenList, ...problemResponses(401, 403) } },
    },
    async () => ({ items: await listApiTokens(deps.db, deps.clock.now()) }),
  );

  app.delete(
    '/v1/tokens/:id',
    {
      onRequest: admin,
      schema: { tags: ['tokens'], operationId: 'revokeToken', summary: 'Revoke a token at once', params: Params, response: { 204: z.null(), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      const r = await revokeApiToken(deps.db, request.params.id, actorOf(request), deps.clock.now());
      if (r === 'unknown') throw notFound(`token ${request.params.id}`);
      request.log.info({ tokenId: request.params.id, result: r }, 'token.revoked');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/tokens/:id/rotate',
    {
      onRequest: admin,
      schema: {
        tags: ['tokens'],
        operationId: 'rotateToken',
        summary: 'Replace a token: a new one with the same name, role and expiry (shown once); the old one is revoked',
        params: Params,
        response: { 201: CreatedToken, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const r = await rotateApiToken(deps.db, request.params.id, actorOf(request), deps.clock.now());
      if (!r) throw notFound(`active token ${request.params.id}`);
      request.log.info({ tokenId: request.params.id, newTokenId: r.id }, 'token.rotated');
      return reply.code(201).send({ id: r.id, name: r.name, role: r.role, token: r.token, expiresAt: iso(r.expiresAt) });
    },
  );
};
