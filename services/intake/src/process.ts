// One claimed complaint report: parse it, find the tenant, record what was found — counted (and checked
// against the complaint rule), a duplicate, unattributed, or a dead letter — in one transaction.
import { ipAssignmentsCovering, recordComplaint, recordDeadReport } from '@abuse-desk/db';
import type { Claimed, ComplaintReport } from '@abuse-desk/db';
import { normalizeIp, tenantForIp, verifyStamp } from '@abuse-desk/domain';
import type { Logger } from 'pino';
import type { IntakeDeps, IntakeMetrics } from './index.js';
import { parseReport, sampleHeaders } from './parse.js';
import type { ParsedReport } from './parse.js';

export interface Attribution {
  tenantId: string | null;
  by: 'stamp' | 'ip' | null;
  /** Why, in words: the stamp's check and the IP lookup, as an agent reads them. */
  detail: string;
}

/**
 * Which tenant sent the reported message: (a) a valid X-Abuse-Desk-Tenant stamp bound to the message's own
 * Message-ID; (b) else the report's Source-IP at its Arrival-Date against the tenants' IP assignments;
 * (c) else nobody — the report is kept unattributed and counted against no one.
 */
export async function attribute(deps: Pick<IntakeDeps, 'db' | 'config'>, report: ParsedReport, receivedAt: Date, now: Date): Promise<Attribution> {
  const notes: string[] = [];
  const secret = deps.config.intake.stampSecret;
  const original = report.original;
  if (!secret) notes.push('stamp: not checked (TENANT_STAMP_SECRET is not set)');
  else if (!original?.tenantStamp) notes.push('stamp: none on the reported message');
  else {
    const check = verifyStamp(original.tenantStamp, original.messageId, secret, now);
    if (check.ok) return { tenantId: check.tenantId, by: 'stamp', detail: `stamp: valid for ${check.tenantId}, signed at ${new Date(check.t * 1000).toISOString()}` };
    notes.push(`stamp: ${check.reason}`);
  }
  const ip = report.sourceIp ? normalizeIp(report.sourceIp) : null;
  if (!ip) notes.push(report.sourceIp ? `ip: Source-IP ${report.sourceIp} is not an IP address` : 'ip: the report names no Source-IP');
  else {
    const at = report.arrivalDate ?? receivedAt;
    const found = tenantForIp(await ipAssignmentsCovering(deps.db, ip), ip, at);
    if (found) return { tenantId: found.tenantId, by: 'ip', detail: `${notes.join('; ')}${notes.length ? '; ' : ''}ip: ${ip} at ${at.toISOString()} is in ${found.cidr} of ${found.tenantId}` };
    notes.push(`ip: no tenant had ${ip} at ${at.toISOString()} (or two did)`);
  }
  return { tenantId: null, by: null, detail: notes.join('; ') };
}

/** A report whose processing failed this many times (an error, not a bad report) ends as a dead letter. */
export const MAX_REPORT_TRIES = 8;

export async function processReport(deps: IntakeDeps, r: Claimed<ComplaintReport>, parent: Logger, metrics: IntakeMetrics) {
  const log = parent.child({ reportId: r.id });
  const now = deps.clock.now();
  const parsed = r.tries > MAX_REPORT_TRIES ? ({ ok: false, reason: `processing failed ${r.tries - 1} times; last error: ${r.last_error ?? 'the intake stopped while processing it'}` } as const) : await parseReport(Buffer.from(r.raw));
  if (!parsed.ok) {
    await deps.db.transaction().execute((trx) => recordDeadReport(trx, r, parsed.reason, now));
    metrics.processed.inc({ outcome: 'dead_letter', attributed_by: 'none' });
    log.warn({ reason: parsed.reason }, 'intake.report.dead_letter');
    return;
  }
  const report = parsed.report;
  const who = await attribute(deps, report, r.received_at, now);
  const result = await deps.db.transaction().execute((trx) =>
    recordComplaint(
      trx,
      {
        reportId: r.id,
        tenantId: who.tenantId,
        attributedBy: who.by,
        attributionDetail: who.detail,
        format: report.format,
        feedbackType: report.feedbackType,
        sourceIp: report.sourceIp,
        arrivalDate: report.arrivalDate,
        receivedAt: r.received_at,
        messageId: report.original?.messageId ?? null,
        mailFrom: report.original?.from ?? report.originalMailFrom,
        subject: report.original?.subject ?? null,
        sampleHeaders: report.original ? sampleHeaders(report) : null,
      },
      { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, actor: 'system:intake', destinations: deps.config.enforcementDestinations },
    ),
  );
  metrics.processed.inc({ outcome: result.outcome, attributed_by: who.by ?? 'none' });
  log.info({ outcome: result.outcome, tenantId: who.tenantId, attributedBy: who.by, feedbackType: report.feedbackType, ticket: result.ticket ?? undefined }, 'intake.report.processed');
  if (result.ticket) deps.onWorkQueued?.();
}
