// The only way the UI talks to abuse-desk: the public HTTP API with a bearer token kept in sessionStorage.
// The shapes of its replies are the API's own, from packages/contracts (types only: no zod in the bundle).
import type { FieldError, Problem } from '@abuse-desk/contracts';

const TOKEN_KEY = 'abuse-desk.token';

/** An RFC 9457 problem (or a network failure) turned into something the UI can say in words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }
}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string) => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

let onUnauthorized: () => void = () => {};
/** Called when a signed-in request answers 401: the token was revoked or never valid. */
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Use this token instead of the stored one (sign-in checks a token before keeping it). */
  token?: string;
  signal?: AbortSignal;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const token = opts.token ?? getToken() ?? '';
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json, application/problem+json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method: opts.method ?? 'GET', headers, body: opts.body === undefined ? null : JSON.stringify(opts.body), signal: opts.signal ?? null });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Could not reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const p = (json ?? {}) as Partial<Problem>;
    const err = new ApiError(res.status, p.detail || p.title || `The server answered ${res.status}`, Array.isArray(p.errors) ? p.errors : []);
    if (res.status === 401 && opts.token === undefined) onUnauthorized();
    throw err;
  }
  return json as T;
}

export const isAbort = (err: unknown) => (err as Error | null)?.name === 'AbortError';

/** Words for any failure, for role="alert" messages. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  return 'Something went wrong in the page. Reload and try again.';
}
