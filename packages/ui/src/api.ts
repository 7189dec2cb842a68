// The only way the UI talks to abuse-desk: the public HTTP API with a bearer token kept in sessionStorage.
const TOKEN_KEY = 'abuse-desk.token';

export interface FieldError {
  field: string;
  message: string;
}

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
    const p = (json ?? {}) as { detail?: string; title?: string; errors?: FieldError[] };
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

// ---------- the shapes the UI reads (see packages/db/src/views.ts)

export interface Contact {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  role: 'contact' | 'tam';
  preferredChannel?: 'phone' | 'email';
  timezone?: string;
}

export interface Evidence {
  windowSeconds: number;
  windowStart: string;
  windowEnd: string;
  counts: { spam: number; phish: number; virus: number; clean: number };
  total: number;
  ratio: number;
  topSenders: { sender: string; count: number }[];
  surge?: { volume: number; baseline: number; multiple: number | null };
  probationUntil?: string;
}

export interface TicketSummary {
  id: string;
  number: string;
  tenantId: string;
  state: string;
  severity: string;
  rule: string;
  open: boolean;
  noContacts: boolean;
  deadlineAt: string | null;
  outboundDisabled: boolean;
  walking: boolean;
  probationUntil: string | null;
  openedAt: string;
  closedAt: string | null;
  evidence: Evidence;
}

export interface Attempt {
  id: string;
  contactName: string;
  channel: string;
  kind: string;
  status: string;
  outcome: string | null;
  createdAt: string;
  completedAt: string | null;
  lastError: string | null;
}

export interface TicketEvent {
  seq: number;
  at: string;
  actor: string;
  type: string;
  fromState: string | null;
  toState: string | null;
  reason: string | null;
}

export interface Delivery {
  destination: string;
  status: string;
  tries: number;
  lastError: string | null;
  deliveredAt: string | null;
  nextAttemptAt?: string | null;
}

export interface EnforcementEvent {
  eventId: string;
  type: string;
  sequence: number;
  at: string;
  deliveries: Delivery[];
}

export interface Ticket extends TicketSummary {
  contacts: Contact[];
  resolution: { actionsTaken: string; contactName: string | null; submittedAt: string | null } | null;
  attempts: Attempt[];
  events: TicketEvent[];
  enforcementEvents: EnforcementEvent[];
}

export interface Outbound {
  tenantId: string;
  enabled: boolean;
  since: string;
  ticketNumber?: string;
}

export interface Tenant {
  id: string;
  name: string;
  notes: string | null;
  outbound: Outbound;
  contacts: Contact[];
  openTicket: TicketSummary | null;
  probation: { since: string | null; until: string; active: boolean } | null;
  enforcementEvents: EnforcementEvent[];
  events: { at: string; actor: string; type: string; reason: string | null }[];
}

export interface TicketPage {
  items: TicketSummary[];
  nextCursor: string | null;
}

export interface Bucket {
  bucketStart: string;
  spam: number;
  phish: number;
  virus: number;
  clean: number;
}
