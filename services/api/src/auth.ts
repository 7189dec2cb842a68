// Bearer tokens with roles (SPEC §7): missing or unknown → 401, wrong role → 403. admin may do everything.
import type { ApiRole } from '@abuse-desk/contracts';
import { findApiToken } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { FastifyRequest } from 'fastify';
import { Problem } from './problems.js';

export interface Principal {
  tokenId: string;
  name: string;
  role: ApiRole;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    clock: { now(): Date };
  }
}

/** An onRequest hook admitting the given roles (and admin): it runs before the body is read or validated. */
export function requireRole(db: Db, ...roles: ApiRole[]) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new Problem(401, 'Unauthorized', 'send Authorization: Bearer <token>');
    const token = await findApiToken(db, match[1]!, request.server.clock.now());
    if (!token) throw new Problem(401, 'Unauthorized', 'the token is unknown, revoked or expired');
    if (token.role !== 'admin' && !roles.includes(token.role)) {
      throw new Problem(403, 'Forbidden', `this needs the role ${[...new Set([...roles, 'admin'])].join(' or ')}; the token has the role ${token.role}`);
    }
    request.principal = { tokenId: token.id, name: token.name, role: token.role };
  };
}

/** How a principal appears in ticket events and policy records. */
export const actorOf = (request: FastifyRequest) => (request.principal ? `${request.principal.role}:${request.principal.name}` : 'anonymous');
