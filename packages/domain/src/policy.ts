// Policy rules of SPEC §5 as pure functions: which parts of a policy this version supports,
// how an override merges over the default, and whether window counts trip the policy.
import { DEFAULT_POLICY } from '@abuse-desk/contracts';
import type { Policy, PolicyOverride, Rule, Severity } from '@abuse-desk/contracts';

export interface WindowCounts {
  spam: number;
  phish: number;
  virus: number;
  clean: number;
}

export const emptyCounts = (): WindowCounts => ({ spam: 0, phish: 0, virus: 0, clean: 0 });

/** Features of SPEC §5 that come later: a policy that uses one is refused, never silently ignored. */
export function unsupportedPolicyFeatures(policy: Partial<Policy> | PolicyOverride['policy']): string[] {
  const problems: string[] = [];
  if (policy.mode === 'shadow') problems.push('mode: "shadow" is not supported yet');
  if (policy.critical?.action === 'suspend') problems.push('critical.action: "suspend" is not supported yet');
  if (policy.surge !== undefined) problems.push('surge: the surge rule is not supported yet');
  if (policy.probation !== undefined) problems.push('probation: probation is not supported yet');
  return problems;
}

const stripUndefined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The policy in force for a tenant: the override's fields over the default, unless it expired. */
export function effectivePolicy(base: Policy, override: { policy: PolicyOverride['policy']; expiresAt: Date | null } | null, now: Date): Policy {
  if (!override || (override.expiresAt && override.expiresAt <= now)) return base;
  const o = override.policy;
  // A partial critical rule completes itself from the default's, or from the built-in one when the
  // default has none, so that a later change of the default never leaves a half rule.
  const critical = o.critical ? { ...(base.critical ?? DEFAULT_POLICY.critical!), ...stripUndefined(o.critical) } : base.critical;
  return {
    ...base,
    ...stripUndefined(o),
    critical,
  } as Policy;
}

export interface Trip {
  rule: Rule;
  severity: Severity;
  windowSeconds: number;
  counts: WindowCounts;
  total: number;
  ratio: number;
  thresholds: Record<string, number>;
}

const ratioOf = (bad: number, total: number) => (total === 0 ? 0 : bad / total);

/**
 * Decides whether a tenant trips. `spamWindow` holds the counts of the last `policy.windowSeconds`,
 * `criticalWindow` those of the last `policy.critical.windowSeconds`, both ending at the same event time.
 * The virus rule wins when both trip: it is the more severe.
 */
export function evaluatePolicy(policy: Policy, spamWindow: WindowCounts, criticalWindow: WindowCounts | null): Trip | null {
  if (policy.critical && criticalWindow && criticalWindow.virus >= policy.critical.minVirus) {
    const total = criticalWindow.spam + criticalWindow.phish + criticalWindow.virus + criticalWindow.clean;
    return {
      rule: 'virus',
      severity: 'critical',
      windowSeconds: policy.critical.windowSeconds,
      counts: criticalWindow,
      total,
      ratio: ratioOf(criticalWindow.virus, total),
      thresholds: { minVirus: policy.critical.minVirus },
    };
  }
  const bad = spamWindow.spam + spamWindow.phish;
  const total = bad + spamWindow.virus + spamWindow.clean;
  const ratio = ratioOf(bad, total);
  if (bad >= policy.minSpam && ratio >= policy.minSpamRatio) {
    return {
      rule: 'spam',
      severity: 'normal',
      windowSeconds: policy.windowSeconds,
      counts: spamWindow,
      total,
      ratio,
      thresholds: { minSpam: policy.minSpam, minSpamRatio: policy.minSpamRatio },
    };
  }
  return null;
}
