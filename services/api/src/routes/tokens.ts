// API tokens: an admin creates them; the token is shown once, only its hash is kept.
import { TokenBody } from '@abuse-desk/contracts';
import { createApiToken } from '@abuse-desk/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { requireRole } from '../auth.js';

export const tokenRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/v1/tokens',
    {
      onRequest: requireRole(deps.db, 'admin'),
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token (shown once)',
        body: TokenBody,
        response: { 201: z.object({ id: z.string(), name: z.string(), role: z.string(), token: z.string() }) },
      },
    },
    async (request, reply) => {
      const { id, token } = await createApiToken(deps.db, request.body.name, request.body.role);
      request.log.info({ tokenId: id, role: request.body.role }, 'token.created');
      return reply.code(201).send({ id, name: request.body.name, role: request.body.role, token });
    },
  );
};
