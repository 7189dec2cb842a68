// RFC 9457 problem details: one error handler maps validation errors, domain refusals and surprises.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { redactUrl } from './log-redaction.js';

export interface FieldError {
  field: string;
  message: string;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
  ) {
    super(detail ?? title);
  }
}

export const notFound = (what: string) => new Problem(404, 'Not Found', `${what} was not found`);
export const conflict = (detail: string) => new Problem(409, 'Conflict', detail);
export const badRequest = (detail: string, errors?: FieldError[]) => new Problem(400, 'Bad Request', detail, errors);

export function sendProblem(reply: FastifyReply, p: Problem) {
  if (p.status === 401) reply.header('www-authenticate', 'Bearer');
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: p.title, status: p.status, ...(p.detail ? { detail: p.detail } : {}), instance: reply.request.url.split('?')[0], ...(p.errors ? { errors: p.errors } : {}) });
}

export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof Problem) return sendProblem(reply, err);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = (err as { validationContext?: string }).validationContext ?? 'request';
      const errors = err.validation.map((v) => ({ field: `${where}${v.instancePath.replace(/\//g, '.')}`.replace(/\.$/, ''), message: v.message ?? 'is invalid' }));
      return sendProblem(reply, badRequest(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors));
    }
    const pgCode = (err as { code?: unknown }).code;
    if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode)) {
      // A data exception from PostgreSQL (a NUL byte, an out-of-range value) is the client's input, not our failure.
      request.log.warn({ err, url: redactUrl(request.url) }, 'request.value_not_storable');
      return sendProblem(reply, badRequest('the request contains a value that cannot be stored (for example a NUL character or an out-of-range number)'));
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      // fastify's own refusals: malformed JSON, body too large, unsupported media type…
      return sendProblem(reply, new Problem(status, status === 413 ? 'Payload Too Large' : status === 415 ? 'Unsupported Media Type' : 'Bad Request', (err as Error).message));
    }
    request.log.error({ err, url: redactUrl(request.url), method: request.method }, 'request.failed');
    return sendProblem(reply, new Problem(500, 'Internal Server Error', 'the server failed to handle this request; it has been logged'));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new Problem(404, 'Not Found', `no route for ${request.method} ${request.url.split('?')[0]}`)));
}
