// Who is asking (SPEC §7, issue 15): a bearer token with a role, or the ticket UI's session cookie (with its
// CSRF token on changes). Missing or unknown → 401, wrong role → 403. admin may do everything.
import type { ApiRole } from '@abuse-desk/contracts';
import { findApiToken } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { FastifyRequest } from 'fastify';
import { Problem } from './problems.js';
import { sessionOfRequest } from './ui-session.js';

export interface Principal {
  /** The API token used, directly or by the token sign-in of a UI session. */
  tokenId: string | null;
  /** The UI session, when the request came with its cookie. */
  sessionId: string | null;
  name: string;
  role: ApiRole;
  /** How this principal appears in ticket events, policy records and the audit trail. */
  actor: string;
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
    const principal = await principalOf(db, request);
    if (principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw new Problem(403, 'Forbidden', `this needs the role ${[...new Set([...roles, 'admin'])].join(' or ')}; you have the role ${principal.role}`);
    }
    request.principal = principal;
  };
}

async function principalOf(db: Db, request: FastifyRequest): Promise<Principal> {
  // A bearer token wins over a cookie: API clients never depend on a browser's state.
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new Problem(401, 'Unauthorized', 'send Authorization: Bearer <token>');
    const token = await findApiToken(db, match[1]!, request.server.clock.now());
    if (!token) throw new Problem(401, 'Unauthorized', 'the token is unknown, revoked or expired');
    return { tokenId: token.id, sessionId: null, name: token.name, role: token.role, actor: `${token.role}:${token.name}` };
  }
  const found = await sessionOfRequest(db, request);
  if (!found) throw new Problem(401, 'Unauthorized', 'send Authorization: Bearer <token>, or sign in to the ticket UI');
  const s = found.session;
  return { tokenId: s.apiTokenId, sessionId: s.id, name: s.name, role: s.role, actor: s.actor };
}

/** How a principal appears in ticket events and policy records. */
export const actorOf = (request: FastifyRequest) => request.principal?.actor ?? 'anonymous';
