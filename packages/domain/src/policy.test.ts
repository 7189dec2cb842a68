// The policy rules of SPEC §5: when window counts trip a tenant, how a per-tenant override merges over
// the default, and which parts of a policy this version refuses.
import { DEFAULT_POLICY } from '@abuse-desk/contracts';
import type { Policy, PolicyOverride } from '@abuse-desk/contracts';
import t from 'tap';
import { baselineMedian, checkOverride, effectivePolicy, emptyCounts, evaluatePolicy, surgeCandidate, tenantPolicyView } from './policy.js';
import type { WindowCounts } from './policy.js';

const NOW = new Date('2026-11-22T10:15:00.000Z');

const policy: Policy = {
  mode: 'enforce',
  windowSeconds: 600,
  minSpam: 50,
  minSpamRatio: 0.05,
  critical: { windowSeconds: 300, minVirus: 5, action: 'escalate' },
};

const counts = (c: Partial<WindowCounts> = {}): WindowCounts => ({ ...emptyCounts(), ...c });

t.test('the spam rule', async (t) => {
  t.test('a tenant with no verdicts does not trip', async (t) => {
    t.equal(evaluatePolicy(policy, emptyCounts(), emptyCounts()), null);
  });

  t.test('exactly minSpam spam verdicts at a high ratio trip the spam rule with severity normal', async (t) => {
    t.same(evaluatePolicy(policy, counts({ spam: 50, clean: 50 }), counts()), {
      rule: 'spam',
      severity: 'normal',
      windowSeconds: 600,
      counts: { spam: 50, phish: 0, virus: 0, clean: 50 },
      total: 100,
      ratio: 0.5,
      thresholds: { minSpam: 50, minSpamRatio: 0.05 },
      suspendAtOnce: false,
      redial: { callAttempts: 1, afterSeconds: 120 },
      sms: { afterUnansweredCall: false, replySeconds: 300 },
    });
  });

  t.test('a trip carries the policy’s redial settings (issue 16), by default one call and no redial', async (t) => {
    t.match(evaluatePolicy({ ...policy, callAttempts: 3, redialAfterSeconds: 60 }, counts({ spam: 50 }), counts()), { redial: { callAttempts: 3, afterSeconds: 60 } });
    t.match(evaluatePolicy({ ...policy, smsAfterUnansweredCall: true, smsReplySeconds: 120 }, counts({ spam: 50 }), counts()), { sms: { afterUnansweredCall: true, replySeconds: 120 } }, 'and its SMS settings');
  });

  t.test('one spam verdict fewer than minSpam does not trip, even when all mail is spam', async (t) => {
    t.equal(evaluatePolicy(policy, counts({ spam: 49 }), counts()), null);
  });

  t.test('a spam ratio of exactly minSpamRatio trips', async (t) => {
    const trip = evaluatePolicy(policy, counts({ spam: 50, clean: 950 }), counts());
    t.match(trip, { rule: 'spam', total: 1000, ratio: 0.05 });
  });

  t.test('a spam ratio just below minSpamRatio does not trip, however much spam there is', async (t) => {
    t.equal(evaluatePolicy(policy, counts({ spam: 50, clean: 951 }), counts()), null);
    t.equal(evaluatePolicy(policy, counts({ spam: 5_000, clean: 95_001 }), counts()), null);
  });

  t.test('phish counts as spam', async (t) => {
    t.match(evaluatePolicy(policy, counts({ spam: 25, phish: 25, clean: 100 }), counts()), { rule: 'spam', total: 150, ratio: 1 / 3 });
    t.match(evaluatePolicy(policy, counts({ phish: 50 }), counts()), { rule: 'spam', ratio: 1 });
    t.equal(evaluatePolicy(policy, counts({ spam: 24, phish: 25 }), counts()), null, '49 spam and phish together are one short');
  });

  t.test('virus and clean verdicts in the spam window count in the total and dilute the ratio', async (t) => {
    t.match(evaluatePolicy(policy, counts({ spam: 50, virus: 2, clean: 948 }), counts({ virus: 2 })), { rule: 'spam', total: 1000, ratio: 0.05 });
    t.equal(evaluatePolicy(policy, counts({ spam: 50, virus: 3, clean: 948 }), counts({ virus: 3 })), null);
  });

  t.test('the trip carries the window counts it was decided on', async (t) => {
    const window = counts({ spam: 40, phish: 20, virus: 1, clean: 139 });
    t.same(evaluatePolicy(policy, window, counts({ virus: 1 }))?.counts, window);
  });

  t.test('a ratio of 0 comes from an empty window, never NaN', async (t) => {
    const noThresholds: Policy = { mode: 'enforce', windowSeconds: 600, minSpam: 0, minSpamRatio: 0 };
    t.match(evaluatePolicy(noThresholds, emptyCounts(), null), { rule: 'spam', total: 0, ratio: 0 });
  });
});

t.test('the virus rule', async (t) => {
  t.test('exactly minVirus virus verdicts in the critical window trip the virus rule with severity critical', async (t) => {
    t.same(evaluatePolicy(policy, emptyCounts(), counts({ virus: 5, clean: 15 })), {
      rule: 'virus',
      severity: 'critical',
      windowSeconds: 300,
      counts: { spam: 0, phish: 0, virus: 5, clean: 15 },
      total: 20,
      ratio: 0.25,
      thresholds: { minVirus: 5 },
      suspendAtOnce: false,
      redial: { callAttempts: 1, afterSeconds: 120 },
      sms: { afterUnansweredCall: false, replySeconds: 300 },
    });
  });

  t.test('one virus verdict fewer than minVirus does not trip', async (t) => {
    t.equal(evaluatePolicy(policy, counts({ virus: 4 }), counts({ virus: 4 })), null);
  });

  t.test('a single virus verdict trips a policy with minVirus 1', async (t) => {
    const strict: Policy = { ...policy, critical: { windowSeconds: 300, minVirus: 1, action: 'escalate' } };
    t.match(evaluatePolicy(strict, emptyCounts(), counts({ virus: 1 })), { rule: 'virus', severity: 'critical', ratio: 1 });
  });

  t.test('the virus rule wins with severity critical when the spam rule trips too', async (t) => {
    const trip = evaluatePolicy(policy, counts({ spam: 500, virus: 5 }), counts({ spam: 300, virus: 5 }));
    t.match(trip, { rule: 'virus', severity: 'critical', windowSeconds: 300, total: 305, counts: { spam: 300, virus: 5 } });
  });

  t.test('only the critical window counts for the virus rule', async (t) => {
    t.equal(evaluatePolicy(policy, counts({ virus: 100 }), counts({ virus: 4 })), null, 'viruses outside the critical window do not count');
    t.equal(evaluatePolicy(policy, counts({ virus: 100 }), null), null, 'without critical-window counts there is no virus trip');
  });

  t.test('without critical-window counts the spam rule is still decided', async (t) => {
    t.match(evaluatePolicy(policy, counts({ spam: 60, clean: 40 }), null), { rule: 'spam', severity: 'normal' });
  });

  t.test('a policy without a critical rule never trips on viruses', async (t) => {
    const { critical: _critical, ...spamOnly } = policy;
    t.equal(evaluatePolicy(spamOnly, counts({ virus: 1_000 }), counts({ virus: 1_000 })), null);
  });
});

t.test('effectivePolicy', async (t) => {
  t.test('without an override the default is in force', async (t) => {
    t.same(effectivePolicy(policy, null, NOW), policy);
  });

  t.test('an override replaces only the fields it names', async (t) => {
    t.same(effectivePolicy(policy, { policy: { minSpam: 10, windowSeconds: 1800 }, expiresAt: null }, NOW), { ...policy, minSpam: 10, windowSeconds: 1800 });
  });

  t.test('fields an override leaves undefined do not erase the default', async (t) => {
    const override: PolicyOverride['policy'] = { minSpam: undefined, minSpamRatio: 0.2, critical: undefined };
    t.same(effectivePolicy(policy, { policy: override, expiresAt: null }, NOW), { ...policy, minSpamRatio: 0.2 });
  });

  t.test('a partial critical override merges into the default critical rule', async (t) => {
    const merged = effectivePolicy(policy, { policy: { critical: { minVirus: 2 } }, expiresAt: null }, NOW);
    t.same(merged.critical, { windowSeconds: 300, minVirus: 2, action: 'escalate' });
    t.equal(merged.minSpam, 50, 'the rest of the default stands');
  });

  t.test('a complete critical rule in an override applies even when the default has none', async (t) => {
    const { critical: _critical, ...spamOnly } = policy;
    const critical = { windowSeconds: 120, minVirus: 3, action: 'escalate' as const };
    t.same(effectivePolicy(spamOnly, { policy: { critical }, expiresAt: null }, NOW), { ...spamOnly, critical });
  });

  t.test('a partial critical override over a default without a critical rule completes itself from the built-in rule', async (t) => {
    const { critical: _critical, ...spamOnly } = policy;
    const merged = effectivePolicy(spamOnly, { policy: { critical: { minVirus: 3 } }, expiresAt: null }, NOW);
    t.same(merged.critical, { windowSeconds: 300, minVirus: 3, action: 'escalate' });
  });

  t.test('an override that has not expired yet is in force', async (t) => {
    const merged = effectivePolicy(policy, { policy: { minSpam: 10 }, expiresAt: new Date(NOW.getTime() + 1) }, NOW);
    t.equal(merged.minSpam, 10);
  });

  t.test('an expired override is ignored', async (t) => {
    t.same(effectivePolicy(policy, { policy: { minSpam: 10 }, expiresAt: new Date('2026-11-22T10:14:59.999Z') }, NOW), policy);
  });

  t.test('an override stops applying at the very instant it expires', async (t) => {
    t.same(effectivePolicy(policy, { policy: { minSpam: 10 }, expiresAt: new Date(NOW) }, NOW), policy);
  });

  t.test('merging leaves the default and the override as they were', async (t) => {
    const base = structuredClone(policy);
    const override = { policy: { minSpam: 10, critical: { minVirus: 2 } }, expiresAt: null };
    const overrideBefore = structuredClone(override);
    effectivePolicy(base, override, NOW);
    t.same(base, policy);
    t.same(override, overrideBefore);
  });

  t.test('an override decides the trip of its tenant', async (t) => {
    const merged = effectivePolicy(policy, { policy: { minSpam: 10 }, expiresAt: null }, NOW);
    const window = counts({ spam: 10, clean: 10 });
    t.equal(evaluatePolicy(policy, window, null), null, 'the default does not trip');
    t.match(evaluatePolicy(merged, window, null), { rule: 'spam', thresholds: { minSpam: 10 } });
  });
});

t.test('critical with action suspend', async (t) => {
  const suspending = { ...policy, critical: { windowSeconds: 300, minVirus: 5, action: 'suspend' as const } };
  t.match(evaluatePolicy(suspending, emptyCounts(), counts({ virus: 5 })), { rule: 'virus', severity: 'critical', suspendAtOnce: true });
  t.match(evaluatePolicy(policy, emptyCounts(), counts({ virus: 5 })), { rule: 'virus', severity: 'critical', suspendAtOnce: false }, 'escalate follows the normal path');
  t.equal(evaluatePolicy(suspending, emptyCounts(), counts({ virus: 4 })), null, 'one below minVirus does not trip');
});

t.test('the surge rule', async (t) => {
  const surging = { ...policy, surge: { windowSeconds: 300, multiple: 20, baselineDays: 7, minVolume: 1000 } };
  const storm = counts({ clean: 2000, spam: 5 });
  t.match(evaluatePolicy(surging, counts({ clean: 2000, spam: 5 }), null, { surge: { counts: storm, baseline: 99 } }), { rule: 'surge', severity: 'normal', surge: { volume: 2005, baseline: 99 } }, 'above 20 × the baseline trips');
  t.equal(evaluatePolicy(surging, storm, null, { surge: { counts: counts({ clean: 1980 }), baseline: 99 } }), null, 'exactly 20 × the baseline does not (it must exceed it)');
  t.equal(evaluatePolicy(surging, storm, null, { surge: { counts: counts({ clean: 999 }), baseline: 0 } }), null, 'below minVolume never trips, even with an empty baseline');
  t.match(evaluatePolicy(surging, storm, null, { surge: { counts: counts({ clean: 1000 }), baseline: 0 } }), { rule: 'surge', surge: { multiple: null } }, 'an empty baseline trips at minVolume');
  t.ok(surgeCandidate(surging, 1000) && !surgeCandidate(surging, 999) && !surgeCandidate(policy, 1_000_000), 'the baseline is looked up only for a large enough window');
  t.equal(evaluatePolicy(surging, counts({ spam: 50, clean: 50 }), null, { surge: { counts: storm, baseline: 1 } })?.rule, 'spam', 'spam wins over surge');
});

t.test('the baseline is the median over every window of the period, empty ones included', async (t) => {
  t.equal(baselineMedian([], 0), 0);
  t.equal(baselineMedian([], 2016), 0, 'no history');
  t.equal(baselineMedian([10, 30, 20], 3), 20);
  t.equal(baselineMedian([10, 30, 20, 40], 4), 25);
  t.equal(baselineMedian([100, 100], 5), 0, 'mostly silent: the median is 0');
});

t.test('probation', async (t) => {
  t.match(evaluatePolicy(policy, counts({ spam: 25, clean: 25 }), null, { probationFactor: 0.5 }), { rule: 'spam', severity: 'repeat', suspendAtOnce: true, thresholds: { minSpam: 25, probationFactor: 0.5 } }, 'half the thresholds trip, as a repeat suspended at once');
  t.equal(evaluatePolicy(policy, counts({ spam: 24, clean: 25 }), null, { probationFactor: 0.5 }), null, 'just below the reduced threshold');
  t.equal(evaluatePolicy(policy, counts({ spam: 25, clean: 25 }), null), null, 'without probation the same counts do not trip');
  t.match(evaluatePolicy(policy, emptyCounts(), counts({ virus: 3 }), { probationFactor: 0.5 }), { rule: 'virus', severity: 'repeat' }, 'the virus rule is reduced too');
});

t.test('an override is refused when its expiry has passed or it leaves the policy incomplete, with field errors', async (t) => {
  const now = new Date('2026-11-22T10:00:00Z');
  t.match(checkOverride(DEFAULT_POLICY, { policy: { minSpam: 10 } }, now), { ok: true, effective: { minSpam: 10, windowSeconds: 600 } });
  t.match(checkOverride(DEFAULT_POLICY, { policy: { minSpam: 10 }, expiresAt: '2026-11-22T09:59:59Z' }, now), { ok: false, errors: [{ field: 'body.expiresAt', message: 'must be in the future' }] });
  t.match(checkOverride(DEFAULT_POLICY, { policy: { minSpam: 10 }, expiresAt: '2026-11-22T10:00:01Z' }, now), { ok: true });
  const view = tenantPolicyView('acme', DEFAULT_POLICY, { policy: { minSpam: 10 }, reason: 'bulk sender', expiresAt: new Date('2026-11-22T09:00:00Z'), setBy: 'admin:x', setAt: new Date('2026-11-21T09:00:00Z') }, now);
  t.match(view, { tenantId: 'acme', override: { expired: true, reason: 'bulk sender' }, effective: { minSpam: 50 } }, 'an expired override shows, but the default is in force');
});
