// Policies (SPEC §5): the default, a tenant's partial override, and the view of both with the policy in force.
import { z } from 'zod';
import { Instant } from './ids.js';

const positiveSeconds = z.number().int().min(60, 'must be at least 60 seconds').max(7 * 86400, 'must be at most 7 days');

export const CriticalRule = z.object({
  windowSeconds: positiveSeconds,
  minVirus: z.number().int().min(1),
  action: z.enum(['escalate', 'suspend']),
});

/** Issue 16: how often an unanswered contact is called before the walk moves on (default 1: no redial). */
const CallAttempts = z.number().int().min(1, 'must be 1 to 3').max(3, 'must be 1 to 3').describe('calls to an unanswered contact before the walk moves on (1–3; default 1)');
/** …and how long after an unanswered call the next one is placed (default 120 s). */
const RedialAfterSeconds = z.number().int().min(5, 'must be at least 5 seconds').max(3600, 'must be at most 3600 seconds').describe('seconds between an unanswered call and the redial (5–3600; default 120)');

/** Issue 16: an SMS beside the follow-up email when a contact's call went unanswered (default false). */
const SmsAfterUnansweredCall = z.boolean().describe('also text a contact whose call went unanswered, beside the follow-up email (default false)');
/** …and how long the walk waits for a reply to the SMS of a contact who prefers SMS (default 300 s). */
const SmsReplySeconds = z.number().int().min(30, 'must be at least 30 seconds').max(3600, 'must be at most 3600 seconds').describe('seconds the walk waits for a reply to its SMS before it moves on (30–3600; default 300)');

/**
 * Issue 17: complaint reports against the tenant's delivered volume. Trips when, within windowSeconds,
 * at least minComplaints attributed reports came in AND they are at least minComplaintRate of the
 * tenant's verdicts (its judged outbound mail) in the same window. Absent: the built-in rule
 * (a day, 20 reports, 0.3 % — see the README).
 */
export const ComplaintRule = z.object({
  windowSeconds: positiveSeconds,
  minComplaints: z.number().int().min(1),
  minComplaintRate: z.number().min(0).max(1),
});

export const Policy = z
  .object({
    mode: z.enum(['enforce', 'shadow']),
    windowSeconds: positiveSeconds,
    minSpam: z.number().int().min(1),
    minSpamRatio: z.number().min(0).max(1),
    critical: CriticalRule.optional(),
    surge: z.object({ windowSeconds: positiveSeconds, multiple: z.number().positive(), baselineDays: z.number().int().min(1).max(28), minVolume: z.number().int().min(1) }).optional(),
    probation: z.object({ hours: z.number().positive(), factor: z.number().positive().max(1) }).optional(),
    callAttempts: CallAttempts.optional(),
    redialAfterSeconds: RedialAfterSeconds.optional(),
    smsAfterUnansweredCall: SmsAfterUnansweredCall.optional(),
    smsReplySeconds: SmsReplySeconds.optional(),
    complaints: ComplaintRule.optional(),
  })
  .meta({ id: 'Policy' });
export type Policy = z.infer<typeof Policy>;

export const DEFAULT_POLICY: Policy = {
  mode: 'enforce',
  windowSeconds: 600,
  minSpam: 50,
  minSpamRatio: 0.05,
  critical: { windowSeconds: 300, minVirus: 5, action: 'escalate' },
};

/** Any part of the policy, merged over the default. */
const PartialPolicy = z.object({
  mode: Policy.shape.mode.optional(),
  windowSeconds: positiveSeconds.optional(),
  minSpam: z.number().int().min(1).optional(),
  minSpamRatio: z.number().min(0).max(1).optional(),
  critical: CriticalRule.partial().optional(),
  surge: Policy.shape.surge,
  probation: Policy.shape.probation,
  callAttempts: Policy.shape.callAttempts,
  redialAfterSeconds: Policy.shape.redialAfterSeconds,
  smsAfterUnansweredCall: Policy.shape.smsAfterUnansweredCall,
  smsReplySeconds: Policy.shape.smsReplySeconds,
  complaints: Policy.shape.complaints,
});

/** A per-tenant override: any part of the policy, merged over the default. */
export const PolicyOverride = z.object({
  policy: PartialPolicy,
  reason: z.string().min(3).max(2000),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type PolicyOverride = z.infer<typeof PolicyOverride>;

/** GET/PUT /v1/tenants/{tenantId}/policy: the default, the tenant's override (if any) and what is in force. */
export const TenantPolicyView = z
  .object({
    tenantId: z.string(),
    default: Policy,
    override: z
      .object({
        policy: PartialPolicy,
        reason: z.string(),
        expiresAt: Instant.nullable(),
        setBy: z.string(),
        setAt: Instant,
        expired: z.boolean(),
      })
      .nullable(),
    /** The default with the override merged over it, unless the override expired. */
    effective: Policy,
  })
  .meta({ id: 'TenantPolicyView' });
export type TenantPolicyView = z.infer<typeof TenantPolicyView>;
