// Which windows a counted batch must check, and which of them trips (SPEC §5). Windows are whole minutes
// of event time; the database sums the buckets of the windows planned here and hands the sums back.
import type { Policy } from '@abuse-desk/contracts';
import { DEFAULT_PROBATION, emptyCounts, evaluatePolicy, surgeCandidate } from './policy.js';
import type { Trip, WindowCounts } from './policy.js';

export const MINUTE = 60_000;
export const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

/** At most this many distinct minutes per tenant and batch are checked (the latest ones). */
export const MAX_WINDOWS_CHECKED = 180;

export interface Probation {
  since: Date;
  until: Date;
}

/**
 * The window ending with the minute bucket of `endMs`, `seconds` long (whole minutes); on probation it
 * starts no earlier than the first whole minute after the reinstatement (`notBefore`).
 */
export function windowBounds(endMs: number, seconds: number, notBefore: Date | null = null) {
  const last = floorMinute(endMs);
  let first = last - (Math.ceil(seconds / 60) - 1) * MINUTE;
  if (notBefore) first = Math.max(first, Math.ceil(notBefore.getTime() / MINUTE) * MINUTE);
  return { first: new Date(first), last: new Date(last), end: new Date(last + MINUTE) };
}

/** What one batch did to one tenant's buckets. */
export interface TenantGrowth {
  /** Minute buckets that got a spam, phish or virus verdict. */
  grown: number[];
  /** The newest minute that got any verdict. */
  newest: number;
}

/** Whether a tenant must be checked: its bad counts grew, or its policy has a surge rule (clean mail trips it too). */
export const needsCheck = (g: TenantGrowth, policy: Policy) => g.grown.length > 0 || !!policy.surge;

/**
 * Where a later bad bucket (counted by an earlier or concurrent batch) would end a window that still holds
 * this batch's newest grown minute: such a window contains the new verdicts too, so it is checked.
 */
export function laterSpan(g: TenantGrowth, policy: Policy): { after: number; until: number } | null {
  if (g.grown.length === 0) return null;
  const last = Math.max(...g.grown);
  return { after: last, until: last + Math.max(policy.windowSeconds, policy.critical?.windowSeconds ?? 0) * 1000 };
}

/**
 * The window ends to check, latest first: every minute that grew (a burst must trip whether or not the
 * same batch carries later verdicts — a consumer catching up reads hours in one batch), after the later
 * bad bucket if there is one. Without growth (surge only) the newest minute.
 */
export function windowEnds(g: TenantGrowth, laterBad: number | undefined): number[] {
  if (g.grown.length === 0) return [g.newest];
  const grown = [...new Set(g.grown)].sort((a, b) => b - a);
  return [...(laterBad !== undefined ? [laterBad] : []), ...grown].slice(0, MAX_WINDOWS_CHECKED);
}

export interface WindowQuery {
  kind: string;
  first: Date;
  last: Date;
}

/** The windows whose sums decide a tenant: spam and critical for each end, surge for the newest minute. */
export function windowQueries(policy: Policy, ends: number[], g: TenantGrowth, probation: Probation | null): WindowQuery[] {
  // On probation, counting restarts at the reinstatement: earlier verdicts cannot trip again.
  const notBefore = probation?.since ?? null;
  return [
    ...ends.flatMap((end) => [
      { kind: `spam:${end}`, ...windowBounds(end, policy.windowSeconds, notBefore) },
      ...(policy.critical ? [{ kind: `critical:${end}`, ...windowBounds(end, policy.critical.windowSeconds, notBefore) }] : []),
    ]),
    // The surge window ends with the newest minute of any verdict: volume counts clean mail too.
    ...(policy.surge ? [{ kind: 'surge', ...windowBounds(g.newest, policy.surge.windowSeconds, notBefore) }] : []),
  ];
}

export const probationFactor = (policy: Policy, probation: Probation | null) => (probation ? (policy.probation ?? DEFAULT_PROBATION).factor : null);

/** The surge baseline to look up, when the surge window is large enough to matter (else null). */
export function surgeBaselineQuery(policy: Policy, g: TenantGrowth, sums: Map<string, WindowCounts>, probation: Probation | null) {
  if (!policy.surge) return null;
  const c = sums.get('surge') ?? emptyCounts();
  if (!surgeCandidate(policy, c.spam + c.phish + c.virus + c.clean, probationFactor(policy, probation))) return null;
  return { before: windowBounds(g.newest, policy.surge.windowSeconds).first, windowSeconds: policy.surge.windowSeconds, days: policy.surge.baselineDays };
}

/** The most recent window that trips, if any, with the end of the window the evidence describes. */
export function firstTrip(policy: Policy, ends: number[], g: TenantGrowth, sums: Map<string, WindowCounts>, probation: Probation | null, surgeBaseline: number | null): { trip: Trip; end: number } | null {
  const factor = probationFactor(policy, probation);
  const surge = surgeBaseline === null ? null : { counts: sums.get('surge') ?? emptyCounts(), baseline: surgeBaseline };
  for (const [i, end] of ends.entries()) {
    const critical = policy.critical ? (sums.get(`critical:${end}`) ?? emptyCounts()) : null;
    const trip = evaluatePolicy(policy, sums.get(`spam:${end}`) ?? emptyCounts(), critical, { probationFactor: factor, surge: i === 0 ? surge : null });
    if (trip) return { trip, end: trip.rule === 'surge' ? g.newest : end };
  }
  return null;
}

/** From what share of a threshold a tenant's senders are tallied (senders.ts): half. */
export const SENDER_EVIDENCE_FROM = 0.5;

/**
 * Whether this batch's senders are kept for evidence: the tenant's windows would trip at half its thresholds
 * (on probation, half the probation thresholds; surge: half its minimum volume). A tenant far from every
 * threshold — nearly all of them, nearly all the time — costs no sender tallies; one that nears a threshold
 * has its senders counted from then on, so a trip's top senders name who sent the mail that tripped it.
 */
export function collectsSenders(policy: Policy, ends: number[], sums: Map<string, WindowCounts>, probation: Probation | null): boolean {
  const factor = (probationFactor(policy, probation) ?? 1) * SENDER_EVIDENCE_FROM;
  for (const end of ends) {
    const critical = policy.critical ? (sums.get(`critical:${end}`) ?? emptyCounts()) : null;
    if (evaluatePolicy(policy, sums.get(`spam:${end}`) ?? emptyCounts(), critical, { probationFactor: factor })) return true;
  }
  const surge = sums.get('surge');
  return !!policy.surge && !!surge && surgeCandidate(policy, surge.spam + surge.phish + surge.virus + surge.clean, factor);
}

/** The evidence's window and which verdicts its top senders count (a surge is about volume: all of them). */
export function evidenceWindow(trip: Trip, end: number, probation: Probation | null) {
  const { first, end: windowEnd } = windowBounds(end, trip.windowSeconds, probation?.since ?? null);
  const verdicts = trip.rule === 'virus' ? ['virus'] : trip.rule === 'surge' ? ['spam', 'phish', 'virus', 'clean'] : ['spam', 'phish'];
  return { first, end: windowEnd, verdicts };
}
