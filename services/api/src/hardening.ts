// Refusals that happen before a route sees the request (issue 15): Node's HTTP parser's own (a header too
// large → 431, a malformed request line → 400) answered as problem+json like every other error, and NUL
// characters anywhere in a request refused before they reach PostgreSQL (which cannot store them).
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { badRequest } from './problems.js';

const STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/** fastify's clientErrorHandler: a problem document written straight to the socket, then the connection closed. */
export function clientProblem(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, title] = STATUS[err.code ?? ''] ?? [400, 'Bad Request'];
  const detail = status === 431 ? 'the request headers are larger than the server accepts' : status === 408 ? 'the request was not received in time' : 'the request could not be parsed as HTTP';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  socket.end(`HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** The path of the first string holding a NUL character, or null. */
function nulAt(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const found = nulAt(v, `${path}.${k}`, depth + 1) ?? (k.includes('\u0000') ? `${path}.${k}` : null);
    if (found) return found;
  }
  return null;
}

/**
 * A preValidation hook: NUL characters in the path, the query or the body are refused with 400 naming the
 * field. Verdict ingest is left to its own per-verdict validation (one bad verdict must not refuse the
 * batch), which refuses NUL the same way.
 */
export async function refuseNul(request: FastifyRequest) {
  if (request.routeOptions.url === '/v1/verdicts') return;
  const field = (request.url.includes('%00') || request.url.includes('\u0000') ? 'url' : null) ?? nulAt(request.params, 'params') ?? nulAt(request.query, 'query') ?? nulAt(request.body, 'body');
  if (field) throw badRequest(`${field}: must not contain NUL characters`, [{ field, message: 'must not contain NUL characters' }]);
}
