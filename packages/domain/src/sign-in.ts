// Who may use the ticket UI and for how long (issue 15): the role a person gets from their identity
// provider's claims, how a signed-in person is named in ticket events, and when a UI session ends.
import type { ApiRole } from '@abuse-desk/contracts';

/** The UI's roles, most powerful first: ingest is for machines and is never given to a person. */
export type PersonRole = Extract<ApiRole, 'admin' | 'agent'>;

/** `value=role` pairs from OIDC_ROLE_MAP: a claim value (a group name) and the role it grants. */
export type RoleMap = ReadonlyArray<{ value: string; role: PersonRole }>;

/**
 * The role a person's claims grant: the claim may be a string, a space-free list or an array of strings
 * (groups); the highest mapped role wins; nothing mapped → null (refused with a page saying why).
 */
export function roleFromClaims(claims: Record<string, unknown>, claim: string, map: RoleMap): PersonRole | null {
  const raw = claimAt(claims, claim);
  const values = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? [raw] : [];
  const granted = new Set(map.filter((m) => values.includes(m.value)).map((m) => m.role));
  return granted.has('admin') ? 'admin' : granted.has('agent') ? 'agent' : null;
}

/** A claim by name; a dotted name reaches into nested objects (`realm_access.roles` in Keycloak). */
function claimAt(claims: Record<string, unknown>, claim: string): unknown {
  if (claim in claims) return claims[claim];
  let v: unknown = claims;
  for (const part of claim.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export interface Person {
  /** The provider's stable id for the person (`sub`). */
  subject: string;
  email: string | null;
  name: string | null;
}

/** The person's identity from ID-token and userinfo claims (userinfo wins where both speak). */
export function personFromClaims(idToken: Record<string, unknown>, userinfo: Record<string, unknown> = {}): Person {
  const all = { ...idToken, ...userinfo };
  const text = (k: string) => (typeof all[k] === 'string' && (all[k] as string).trim() ? (all[k] as string).trim() : null);
  return { subject: String(idToken.sub), email: text('email'), name: text('name') ?? text('preferred_username') };
}

/**
 * How a person appears as the actor of ticket events, policy records and audit events: role, email and
 * the provider's subject, so the record names the person even after an email address is reused.
 */
export function personActor(role: PersonRole, p: Person): string {
  return `${role}:${p.email ?? p.name ?? p.subject} (sub ${p.subject})`;
}

export interface SessionTimes {
  createdAt: Date;
  lastSeenAt: Date;
}

export interface SessionLimits {
  /** A session unused for this long ends. */
  idleSeconds: number;
  /** A session ends this long after sign-in, however busy. */
  maxSeconds: number;
}

/** Whether a UI session may still be used at `now`, and if not, why (the UI says which). */
export function sessionStanding(s: SessionTimes, limits: SessionLimits, now: Date): 'active' | 'idle' | 'expired' {
  if (now.getTime() >= s.createdAt.getTime() + limits.maxSeconds * 1000) return 'expired';
  if (now.getTime() >= s.lastSeenAt.getTime() + limits.idleSeconds * 1000) return 'idle';
  return 'active';
}

/**
 * How stale `last_seen_at` may get before a request writes it again: often enough that the idle timeout
 * is judged to within a twentieth of itself, never more than once a minute per session.
 */
export const lastSeenResolutionMs = (limits: SessionLimits) => Math.min(60_000, (limits.idleSeconds * 1000) / 20);

/** Where to go after sign-in: only a path of the ticket UI, never another site (an open redirect). */
export function safeReturnPath(p: string | undefined): string {
  if (!p || !/^\/ui(\/[^\s\\]*)?$/.test(p) || p.startsWith('//')) return '/ui/';
  return p;
}
