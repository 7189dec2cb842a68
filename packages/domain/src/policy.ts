// Policy rules of SPEC §5 as pure functions: which parts of a policy this version supports,
// how an override merges over the default, and whether window counts trip the policy.
import { DEFAULT_POLICY, Policy as PolicySchema } from '@abuse-desk/contracts';
import type { Policy, PolicyOverride, Rule, Severity } from '@abuse-desk/contracts';

export interface WindowCounts {
  spam: number;
  phish: number;
  virus: number;
  clean: number;
}

export const emptyCounts = (): WindowCounts => ({ spam: 0, phish: 0, virus: 0, clean: 0 });

export const DEFAULT_PROBATION = { hours: 24, factor: 0.5 } as const;

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

/**
 * Whether an override may be set now: its expiry lies ahead and, merged over the default, it gives a
 * complete policy (a partial critical or surge rule is completed from the default). Field errors name
 * the body's fields, for the 400 answer.
 */
export function checkOverride(base: Policy, override: { policy: PolicyOverride['policy']; expiresAt?: string | undefined }, now: Date): { ok: true; effective: Policy } | { ok: false; detail: string; errors: { field: string; message: string }[] } {
  if (override.expiresAt && new Date(override.expiresAt) <= now) return { ok: false, detail: 'expiresAt must be in the future', errors: [{ field: 'body.expiresAt', message: 'must be in the future' }] };
  const check = PolicySchema.safeParse(effectivePolicy(base, { policy: override.policy, expiresAt: null }, now));
  if (!check.success) return { ok: false, detail: 'the override does not give a complete policy', errors: check.error.issues.map((i) => ({ field: `body.policy.${i.path.join('.')}`, message: i.message })) };
  return { ok: true, effective: check.data };
}

/** What GET /v1/tenants/{id}/policy shows: the default, the override (and whether it expired) and the policy in force. */
export function tenantPolicyView(tenantId: string, base: Policy, override: { policy: PolicyOverride['policy']; reason: string; expiresAt: Date | null; setBy: string; setAt: Date } | null, now: Date) {
  return {
    tenantId,
    default: base,
    override: override && { policy: override.policy, reason: override.reason, expiresAt: override.expiresAt?.toISOString() ?? null, setBy: override.setBy, setAt: override.setAt.toISOString(), expired: !!override.expiresAt && override.expiresAt <= now },
    effective: effectivePolicy(base, override, now),
  };
}

export interface Trip {
  rule: Rule;
  severity: Severity;
  windowSeconds: number;
  counts: WindowCounts;
  total: number;
  ratio: number;
  thresholds: Record<string, number>;
  /** Outbound mail is disabled in the transaction that opens the ticket (critical suspend, repeat). */
  suspendAtOnce: boolean;
  /** The volume of the surge window, the tenant's baseline for such a window, and their ratio (null: no baseline). */
  surge?: { volume: number; baseline: number; multiple: number | null };
  /** How the walk redials an unanswered contact (issue 16), from the policy in force when the ticket opens. */
  redial?: Redial;
  /** How the walk uses SMS (issue 16), from the policy in force when the ticket opens. */
  sms?: SmsSettings;
}

/** `callAttempts` calls to an unanswered contact, `afterSeconds` apart, before the walk moves on. */
export interface Redial {
  callAttempts: number;
  afterSeconds: number;
}

export const DEFAULT_REDIAL: Redial = { callAttempts: 1, afterSeconds: 120 };

export const redialOf = (policy: Pick<Policy, 'callAttempts' | 'redialAfterSeconds'>): Redial => ({
  callAttempts: policy.callAttempts ?? DEFAULT_REDIAL.callAttempts,
  afterSeconds: policy.redialAfterSeconds ?? DEFAULT_REDIAL.afterSeconds,
});

/** An SMS beside the follow-up email after an unanswered call; how long the walk waits for a reply to its SMS. */
export interface SmsSettings {
  afterUnansweredCall: boolean;
  replySeconds: number;
}

export const DEFAULT_SMS: SmsSettings = { afterUnansweredCall: false, replySeconds: 300 };

export const smsOf = (policy: Pick<Policy, 'smsAfterUnansweredCall' | 'smsReplySeconds'>): SmsSettings => ({
  afterUnansweredCall: policy.smsAfterUnansweredCall ?? DEFAULT_SMS.afterUnansweredCall,
  replySeconds: policy.smsReplySeconds ?? DEFAULT_SMS.replySeconds,
});

const ratioOf = (bad: number, total: number) => (total === 0 ? 0 : bad / total);
const totalOf = (c: WindowCounts) => c.spam + c.phish + c.virus + c.clean;

export interface PolicyExtras {
  /** Counts of the surge window and the tenant's baseline volume for such a window (null: not computed). */
  surge?: { counts: WindowCounts; baseline: number } | null;
  /** While on probation: the factor applied to every threshold. */
  probationFactor?: number | null;
}

/** Whether a surge window's volume is large enough that its baseline must be looked up. */
export function surgeCandidate(policy: Policy, volume: number, probationFactor: number | null = null): boolean {
  return !!policy.surge && volume >= Math.ceil(policy.surge.minVolume * (probationFactor ?? 1));
}

/**
 * The median of a tenant's volume per window over its baseline period: `values` are the volumes of the
 * windows that had any mail, `slots` how many windows the period holds (the rest had none).
 */
export function baselineMedian(values: number[], slots: number): number {
  const zeros = Math.max(0, slots - values.length);
  const all = [...new Array<number>(zeros).fill(0), ...[...values].sort((a, b) => a - b)];
  if (all.length === 0) return 0;
  const mid = Math.floor(all.length / 2);
  return all.length % 2 ? all[mid]! : (all[mid - 1]! + all[mid]!) / 2;
}

/**
 * Decides whether a tenant trips. `spamWindow` holds the counts of the last `policy.windowSeconds`,
 * `criticalWindow` those of the last `policy.critical.windowSeconds`, both ending at the same event time.
 * The virus rule wins over spam, spam over surge. On probation every threshold is multiplied by the
 * factor and any trip is a `repeat`, suspended at once.
 */
export function evaluatePolicy(policy: Policy, spamWindow: WindowCounts, criticalWindow: WindowCounts | null, extras: PolicyExtras = {}): Trip | null {
  const f = extras.probationFactor ?? null;
  const scale = (n: number) => (f === null ? n : Math.max(1, Math.ceil(n * f)));
  const repeat = f !== null;
  const decorate = (found: Omit<Trip, 'severity' | 'suspendAtOnce'> & { severity: Severity; suspendAtOnce: boolean }): Trip => {
    const trip = { ...found, redial: redialOf(policy), sms: smsOf(policy) };
    return repeat ? { ...trip, severity: 'repeat', suspendAtOnce: true, thresholds: { ...trip.thresholds, probationFactor: f } } : trip;
  };

  if (policy.critical && criticalWindow && criticalWindow.virus >= scale(policy.critical.minVirus)) {
    const total = totalOf(criticalWindow);
    return decorate({
      rule: 'virus',
      severity: 'critical',
      suspendAtOnce: policy.critical.action === 'suspend',
      windowSeconds: policy.critical.windowSeconds,
      counts: criticalWindow,
      total,
      ratio: ratioOf(criticalWindow.virus, total),
      thresholds: { minVirus: scale(policy.critical.minVirus) },
    });
  }
  const bad = spamWindow.spam + spamWindow.phish;
  const total = totalOf(spamWindow);
  const ratio = ratioOf(bad, total);
  const minRatio = f === null ? policy.minSpamRatio : policy.minSpamRatio * f;
  if (bad >= scale(policy.minSpam) && ratio >= minRatio) {
    return decorate({ rule: 'spam', severity: 'normal', suspendAtOnce: false, windowSeconds: policy.windowSeconds, counts: spamWindow, total, ratio, thresholds: { minSpam: scale(policy.minSpam), minSpamRatio: minRatio } });
  }
  if (policy.surge && extras.surge) {
    const multiple = f === null ? policy.surge.multiple : policy.surge.multiple * f;
    const { counts, baseline } = extras.surge;
    const volume = totalOf(counts);
    if (volume >= scale(policy.surge.minVolume) && volume > multiple * baseline) {
      return decorate({
        rule: 'surge',
        severity: 'normal',
        suspendAtOnce: false,
        windowSeconds: policy.surge.windowSeconds,
        counts,
        total: volume,
        ratio: ratioOf(counts.spam + counts.phish, volume),
        thresholds: { multiple, minVolume: scale(policy.surge.minVolume), baselineDays: policy.surge.baselineDays },
        surge: { volume, baseline, multiple: baseline > 0 ? volume / baseline : null },
      });
    }
  }
  return null;
}
