// Complaint reports (issue 17): stored raw the moment they arrive — before the SMTP 250 or the 202 —
// then worked as claimed rows (parse, attribute, count); tenants' IP assignments for attribution by
// Source-IP.
import { DEFAULT_COMPLAINT_RULE, DEFAULT_PROBATION, complaintsTrip, redialOf, smsOf, summarizeComplaints } from '@abuse-desk/domain';
import type { IpAssignment, Trip } from '@abuse-desk/domain';
import { sql } from 'kysely';
import { claim } from './claim.js';
import type { Claimed, ClaimOptions } from './claim.js';
import type { Db } from './connect.js';
import { policiesInForce } from './policies.js';
import type { ComplaintReport, Evidence } from './schema.js';
import { ensureTenants, listContacts, toSnapshot } from './tenants.js';
import { openOrUpdateTicket } from './tickets.js';
import type { CommandContext } from './tickets.js';

/** Stores one report as received; its id once the row is committed. */
export async function storeReport(db: Db, r: { source: 'smtp' | 'api'; raw: Buffer; envelopeFrom: string | null; remoteAddress: string | null; now: Date }): Promise<string> {
  const row = await db
    .insertInto('complaint_reports')
    .values({ source: r.source, raw: r.raw, envelope_from: r.envelopeFrom, remote_address: r.remoteAddress, received_at: r.now, due_at: r.now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Deletes up to `limit` processed reports received before `before` (COMPLAINT_RETENTION_DAYS), oldest first,
 * through the received_at index; the number deleted. Tickets keep the evidence they copied (counts, samples);
 * a resend of a message whose report is gone would count again, long after any complaint window.
 */
export async function forgetReports(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`delete from complaint_reports where id in (
      select id from complaint_reports where received_at < ${before} and status = 'done' order by received_at limit ${limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Reports due for processing, leased to one worker; one whose worker died comes back after its lease. */
export function claimReports(db: Db, o: ClaimOptions): Promise<Claimed<ComplaintReport>[]> {
  return claim<Claimed<ComplaintReport>>(db, {
    table: 'complaint_reports',
    key: ['id'],
    due: sql`status in ('pending', 'dispatching') and due_at <= ${o.now}`,
    orderBy: 'due_at',
    limit: o.limit,
    lease: { now: o.now, seconds: o.leaseSeconds, workerId: o.workerId, set: sql`status = 'dispatching'` },
    carry: ['status'],
  });
}

/** Processing failed for a reason that may pass (the database, a bug): try again later. */
export async function retryReport(db: Db, id: string, error: string, dueAt: Date) {
  await db.updateTable('complaint_reports').set({ status: 'pending', last_error: error, due_at: dueAt, locked_by: null, locked_until: null }).where('id', '=', id).execute();
}

/** The age of the oldest report waiting to be processed (seconds; 0 when none waits), for the metrics: read through the partial index of due reports, never the whole table. */
export async function oldestPendingReportAge(db: Db, now: Date): Promise<{ waiting: number; oldestSeconds: number }> {
  const r = await sql<{ n: number; oldest: Date | null }>`select count(*)::int as n, min(received_at) as oldest from complaint_reports where status in ('pending', 'dispatching')`.execute(db);
  const row = r.rows[0]!;
  return { waiting: row.n, oldestSeconds: row.oldest ? Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000) : 0 };
}

const toAssignment = (r: { tenant_id: string; cidr: string; valid_from: Date | null; valid_until: Date | null }): IpAssignment => ({ tenantId: r.tenant_id, cidr: r.cidr, validFrom: r.valid_from, validUntil: r.valid_until });

/**
 * The assignments whose range contains `ip` (a normalised address), at any time: the candidates the domain's
 * tenantForIp chooses from. Found through the GiST index on the ranges, so a report costs the same with ten
 * assignments or a hundred thousand.
 */
export async function ipAssignmentsCovering(db: Db, ip: string): Promise<IpAssignment[]> {
  return (await coveringQuery(db, ip).execute()).map(toAssignment);
}

/** The query itself, for a test to see its plan. */
export const coveringQuery = (db: Db, ip: string) =>
  db
    .selectFrom('tenant_ips')
    .select(['tenant_id', 'cidr', 'valid_from', 'valid_until'])
    .where(sql<boolean>`cidr::inet >>= ${ip}::inet`);

/** Other tenants' assignments of exactly these ranges (normalised): all that assignmentConflicts compares with. */
export async function assignmentsOfRanges(db: Db, cidrs: string[], exceptTenant: string): Promise<IpAssignment[]> {
  if (cidrs.length === 0) return [];
  const rows = await db.selectFrom('tenant_ips').select(['tenant_id', 'cidr', 'valid_from', 'valid_until']).where('cidr', 'in', cidrs).where('tenant_id', '<>', exceptTenant).execute();
  return rows.map(toAssignment);
}

export async function tenantIps(db: Db, tenantId: string) {
  return db.selectFrom('tenant_ips').selectAll().where('tenant_id', '=', tenantId).orderBy('cidr').orderBy('valid_from').execute();
}

/** Replaces a tenant's IP assignments, in the caller's transaction. */
export async function replaceTenantIps(trx: Db, tenantId: string, list: (IpAssignment & { note: string | null })[], now: Date) {
  await trx.deleteFrom('tenant_ips').where('tenant_id', '=', tenantId).execute();
  if (list.length === 0) return;
  await trx
    .insertInto('tenant_ips')
    .values(list.map((a) => ({ tenant_id: tenantId, cidr: a.cidr, valid_from: a.validFrom, valid_until: a.validUntil, note: a.note, created_at: now })))
    .execute();
}

/** A report that could not be parsed: listed with the verdict dead letters, raw bytes and reason kept. */
export async function recordDeadReport(trx: Db, r: Pick<ComplaintReport, 'id' | 'raw' | 'source'>, reason: string, now: Date) {
  await trx.insertInto('dead_letters').values({ source: `complaint-${r.source}`, topic: null, partition: null, offset: r.id, raw: r.raw, reason, received_at: now }).execute();
  await trx
    .updateTable('complaint_reports')
    .set({ status: 'done', outcome: 'dead_letter', last_error: reason, processed_at: now, locked_by: null, locked_until: null })
    .where('id', '=', r.id)
    .execute();
}

export interface ComplaintFacts {
  reportId: string;
  tenantId: string | null;
  attributedBy: 'stamp' | 'ip' | null;
  attributionDetail: string;
  format: string;
  feedbackType: string;
  sourceIp: string | null;
  arrivalDate: Date | null;
  receivedAt: Date;
  messageId: string | null;
  mailFrom: string | null;
  subject: string | null;
  sampleHeaders: string | null;
}

export type ComplaintOutcome = 'counted' | 'duplicate' | 'unattributed';

/** Samples and top lists come from at most this many of the window's newest reports. */
const EVIDENCE_REPORTS = 500;
/** How many of the newest reports the ticket shows with their headers. */
const SAMPLE_REPORTS = 5;

/**
 * Records what processing found, in the caller's transaction. An attributed report counts once per
 * (tenant, reported Message-ID) — a resend is a duplicate —, and a counted one is checked against the
 * tenant's complaint rule: complaints in the window against the tenant's judged mail in the same window.
 */
export async function recordComplaint(trx: Db, f: ComplaintFacts, ctx: CommandContext): Promise<{ outcome: ComplaintOutcome; ticket: string | null }> {
  const facts = {
    format: f.format,
    feedback_type: f.feedbackType,
    source_ip: f.sourceIp,
    arrival_date: f.arrivalDate,
    message_id: f.messageId,
    mail_from: f.mailFrom,
    subject: f.subject,
    sample_headers: f.sampleHeaders,
    attribution_detail: f.attributionDetail,
    status: 'done' as const,
    processed_at: ctx.now,
    locked_by: null,
    locked_until: null,
    last_error: null,
  };
  if (!f.tenantId) {
    await trx.updateTable('complaint_reports').set({ ...facts, outcome: 'unattributed', tenant_id: null, attributed_by: null }).where('id', '=', f.reportId).execute();
    return { outcome: 'unattributed', ticket: null };
  }
  const tenantId = f.tenantId;
  await ensureTenants(trx, [tenantId], ctx.now);
  if (f.messageId) {
    // Two workers with a report and its resend: the second waits here and then sees the first counted.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`complaint\n${tenantId}\n${f.messageId}`}, 0))`.execute(trx);
    const seen = await trx.selectFrom('complaint_reports').select('id').where('tenant_id', '=', tenantId).where('message_id', '=', f.messageId).where('outcome', '=', 'counted').executeTakeFirst();
    if (seen) {
      await trx.updateTable('complaint_reports').set({ ...facts, outcome: 'duplicate', tenant_id: tenantId, attributed_by: f.attributedBy, attribution_detail: `${f.attributionDetail}; duplicate of report ${seen.id}` }).where('id', '=', f.reportId).execute();
      return { outcome: 'duplicate', ticket: null };
    }
  }
  // A report's time is when the reported mail arrived (else when we got the report), never in the future.
  const at = new Date(Math.min((f.arrivalDate ?? f.receivedAt).getTime(), ctx.now.getTime()));
  await trx.updateTable('complaint_reports').set({ ...facts, arrival_date: at, outcome: 'counted', tenant_id: tenantId, attributed_by: f.attributedBy }).where('id', '=', f.reportId).execute();
  const ticket = await checkComplaintRule(trx, tenantId, at, ctx);
  return { outcome: 'counted', ticket };
}

/** The complaint rule for one tenant at `end`: opens or updates its ticket when it trips; the ticket number or null. */
async function checkComplaintRule(trx: Db, tenantId: string, end: Date, ctx: CommandContext): Promise<string | null> {
  const { policies, probation } = await policiesInForce(trx, [tenantId], ctx.now, { probation: true });
  const policy = policies.get(tenantId)!;
  const rule = policy.complaints ?? DEFAULT_COMPLAINT_RULE;
  const onProbation = probation.get(tenantId) ?? null;
  const factor = onProbation ? (policy.probation ?? DEFAULT_PROBATION).factor : null;
  const start = new Date(end.getTime() - rule.windowSeconds * 1000);
  const counted = await sql<{ n: number }>`
    select count(*)::int as n from complaint_reports
    where tenant_id = ${tenantId} and outcome = 'counted' and arrival_date > ${start} and arrival_date <= ${end}`.execute(trx);
  const volume = await sql<{ spam: number; phish: number; virus: number; clean: number }>`
    select coalesce(sum(spam), 0)::int as spam, coalesce(sum(phish), 0)::int as phish, coalesce(sum(virus), 0)::int as virus, coalesce(sum(clean), 0)::int as clean
    from counts where tenant_id = ${tenantId} and bucket_start > ${start} and bucket_start <= ${end}`.execute(trx);
  const counts = volume.rows[0]!;
  const delivered = counts.spam + counts.phish + counts.virus + counts.clean;
  const found = complaintsTrip(rule, counted.rows[0]!.n, delivered, factor);
  if (!found) return null;
  // The summary counts over up to EVIDENCE_REPORTS reports but shows the headers of only the newest few
  // (SAMPLE_REPORTS): only theirs are read, not a few kB of headers for every report behind the counts.
  const reports = await trx
    .selectFrom('complaint_reports')
    .select(['id', 'feedback_type', 'mail_from', 'subject', 'arrival_date', 'source_ip'])
    .where('tenant_id', '=', tenantId)
    .where('outcome', '=', 'counted')
    .where('arrival_date', '>', start)
    .where('arrival_date', '<=', end)
    .orderBy('arrival_date', 'desc')
    .orderBy('id')
    .limit(EVIDENCE_REPORTS)
    .execute();
  const newest = reports.slice(0, SAMPLE_REPORTS).map((r) => r.id);
  const headers = new Map(
    newest.length ? (await trx.selectFrom('complaint_reports').select(['id', 'sample_headers']).where('id', 'in', newest).execute()).map((r) => [r.id, r.sample_headers ?? ''] as const) : [],
  );
  const summary = summarizeComplaints(
    reports.map((r) => ({ feedbackType: r.feedback_type ?? 'other', mailFrom: r.mail_from, subject: r.subject, receivedAt: r.arrival_date!, sourceIp: r.source_ip, headers: headers.get(r.id) ?? '' })),
    { samples: SAMPLE_REPORTS },
  );
  const repeat = onProbation !== null;
  const trip: Trip = {
    rule: 'complaints',
    severity: repeat ? 'repeat' : 'normal',
    windowSeconds: rule.windowSeconds,
    counts,
    total: delivered,
    ratio: found.rate,
    thresholds: { ...found.thresholds, ...(factor !== null ? { probationFactor: factor } : {}) },
    suspendAtOnce: repeat,
    redial: redialOf(policy),
    sms: smsOf(policy),
  };
  const evidence: Evidence = {
    rule: 'complaints',
    windowSeconds: rule.windowSeconds,
    windowStart: start.toISOString(),
    windowEnd: end.toISOString(),
    counts,
    total: delivered,
    ratio: found.rate,
    thresholds: trip.thresholds,
    topSenders: summary.topSenders,
    complaints: { count: found.complaints, ...summary },
    ...(onProbation ? { probationUntil: onProbation.until.toISOString() } : {}),
  };
  const contacts = (await listContacts(trx, tenantId)).map(toSnapshot);
  const { ticket } = await openOrUpdateTicket(trx, { tenantId, trip, evidence, contacts, mode: policy.mode, now: ctx.now, resolutionTimeoutSeconds: ctx.resolutionTimeoutSeconds, actor: ctx.actor, destinations: ctx.destinations });
  return ticket.number;
}
