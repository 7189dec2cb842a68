// The only way the UI talks to abuse-desk: the public HTTP API, signed in by the session cookie the api
// set (HttpOnly: this code never sees a token). Every change carries the session's CSRF token.
// The shapes of its replies are the API's own, from packages/contracts (types only: no zod in the bundle).
import type { FieldError, Problem, SessionInfo, SignOutAnswer } from '@abuse-desk/contracts';

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

/** The signed-in session's CSRF token, kept in memory only (a reload asks GET /v1/session again). */
let csrfToken: string | null = null;

let onUnauthorized: (detail: string) => void = () => {};
/** Called when a signed-in request answers 401: the session ended (idle, time limit, signed out elsewhere). */
export function setUnauthorizedHandler(fn: (detail: string) => void) {
  onUnauthorized = fn;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** A 401 is an answer, not a lost session (the sign-in form's own request). */
  signingIn?: boolean;
  signal?: AbortSignal;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: opts.body === undefined ? null : JSON.stringify(opts.body), signal: opts.signal ?? null });
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
    if (res.status === 401 && !opts.signingIn) {
      csrfToken = null;
      onUnauthorized(err.detail);
    }
    throw err;
  }
  return json as T;
}

/** Who is signed in in this browser (and the CSRF token for changes), or how to sign in. */
export async function currentSession(): Promise<SessionInfo> {
  const s = await api<SessionInfo>('/v1/session', { signingIn: true });
  csrfToken = s.signedIn ? s.csrfToken : null;
  return s;
}

/** Exchanges an API token for a session cookie; the token itself is not kept anywhere in the browser. */
export async function signInWithToken(token: string): Promise<SessionInfo> {
  const s = await api<SessionInfo>('/v1/session', { method: 'POST', body: { token }, signingIn: true });
  csrfToken = s.signedIn ? s.csrfToken : null;
  return s;
}

/**
 * Ends the session; returns the identity provider's end-session URL when the installation signs people out
 * there too (OIDC_SIGN_OUT_AT_PROVIDER), else null.
 */
export async function signOut(): Promise<string | null> {
  try {
    const answer = await api<SignOutAnswer | null>('/v1/session', { method: 'DELETE', signingIn: true });
    return answer?.signOutUrl ?? null;
  } finally {
    csrfToken = null;
  }
}

export const isAbort = (err: unknown) => (err as Error | null)?.name === 'AbortError';

/** Words for any failure, for role="alert" messages. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  return 'Something went wrong in the page. Reload and try again.';
}
