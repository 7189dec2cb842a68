// Verdicts as the mail platform sends them (SPEC §4), for tests: one valid verdict with overrides, and
// bursts of N for a tenant. Every verdict gets a messageId no other call in this process gives out, so
// a burst is never mistaken for a repeat of an earlier one.
import type { Verdict } from '@abuse-desk/contracts';

/** A verdict's fields, plus `at` for `occurredAt` as a Date. */
export type VerdictOverrides = Partial<Verdict> & { at?: Date };

let sequence = 0;

/** A valid verdict: spam for tenant `acme`, now, one recipient; `over` replaces any field. */
export function verdict(over: VerdictOverrides = {}): Verdict {
  sequence += 1;
  const { at, ...fields } = over;
  const tenantId = fields.tenantId ?? 'acme';
  return {
    tenantId,
    messageId: `<${sequence}@${tenantId}.example>`,
    verdict: 'spam',
    occurredAt: (at ?? new Date()).toISOString(),
    recipients: 1,
    ...fields,
  };
}

/**
 * `count` verdicts for a tenant, each with a fresh messageId: spam at one instant unless `over` says
 * otherwise. `over` may be a function of the index, for a burst that mixes kinds, senders or times.
 */
export function verdictBurst(tenantId: string, count: number, over: VerdictOverrides | ((i: number) => VerdictOverrides) = {}): Verdict[] {
  sequence += 1;
  const burst = sequence;
  const at = typeof over === 'function' ? new Date() : (over.at ?? new Date());
  return Array.from({ length: count }, (_, i) => verdict({ messageId: `<${burst}.${i}@${tenantId}.example>`, at, ...(typeof over === 'function' ? over(i) : over), tenantId }));
}

/** `count` spam verdicts for a tenant (50 at a ratio of at least 5 % trip the default policy). */
export function spamBurst(tenantId: string, count: number, over: Omit<VerdictOverrides, 'verdict'> = {}): Verdict[] {
  return verdictBurst(tenantId, count, { ...over, verdict: 'spam' });
}

/** `count` clean verdicts for a tenant. */
export function cleanBurst(tenantId: string, count: number, over: Omit<VerdictOverrides, 'verdict'> = {}): Verdict[] {
  return verdictBurst(tenantId, count, { ...over, verdict: 'clean' });
}
