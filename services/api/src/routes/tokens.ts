// API tokens: an admin creates them; the token is shown once, only its hash is kept.
import { CreatedToken, TokenBody, problemResponses } from '@abuse-desk/contracts';
import { createApiToken } from '@abuse-desk/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../app.js';
import { requireRole } from '../auth.js';

export const tokenRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/v1/tokens',
    {
      onRequest: requireRole(deps.db, 'admin'),
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary: 'Create an API token (shown once)',
        body: TokenBody,
        response: { 201: CreatedToken, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { id, token } = await createApiToken(deps.db, request.body.name, request.body.role);
      request.log.info({ tokenId: id, role: request.body.role }, 'token.created');
      return reply.code(201).send({ id, name: request.body.name, role: request.body.role, token });
    },
  );
};
