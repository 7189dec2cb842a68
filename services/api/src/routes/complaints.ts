// Complaint reports over HTTP (issue 17): POST /v1/complaints takes one raw report (message/rfc822) fetched
// from a feed elsewhere and stores it before answering 202, exactly as the intake's SMTP listener does; the
// intake role processes it. Agents list what came in (unattributed ones included); admins keep each
// tenant's IP assignments, which attribute reports by Source-IP.
import { ComplaintAccepted, ComplaintReportPage, IpAssignmentList, IpAssignmentReply, TenantId, problemResponses } from '@abuse-desk/contracts';
import { assignmentsOfRanges, complaintReportsReceivedMetric, getTenant, replaceTenantIps, storeReport, tenantIps } from '@abuse-desk/db';
import type { TenantIp } from '@abuse-desk/db';
import { assignmentConflicts, normalizeCidr } from '@abuse-desk/domain';
import type { IpAssignment } from '@abuse-desk/domain';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { requireRole } from '../auth.js';
import { Problem, notFound } from '../problems.js';

const Params = z.object({ tenantId: TenantId });
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const ipView = (r: TenantIp) => ({ cidr: r.cidr, validFrom: iso(r.valid_from), validUntil: iso(r.valid_until), note: r.note });

export const complaintRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { db } = deps;
  const received = complaintReportsReceivedMetric(deps.registry);
  const maxBytes = deps.config.intake.maxMessageBytes;
  app.addContentTypeParser('message/rfc822', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/complaints',
    {
      onRequest: requireRole(db, 'ingest'),
      bodyLimit: maxBytes,
      schema: {
        tags: ['complaints'],
        operationId: 'postComplaint',
        summary: 'Store one complaint report (ARF or X-ARF, the raw message) for processing',
        description: `Body: the report as received, \`Content-Type: message/rfc822\`, at most INTAKE_MAX_MESSAGE_BYTES (${maxBytes}). Stored before the 202; the intake role parses and attributes it.`,
        consumes: ['message/rfc822'],
        response: { 202: ComplaintAccepted, ...problemResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      const raw = request.body as unknown;
      if (!/^message\/rfc822\b/i.test(request.headers['content-type'] ?? '')) throw new Problem(415, 'Unsupported Media Type', 'send the report as the raw message with Content-Type: message/rfc822');
      if (!Buffer.isBuffer(raw) || raw.length === 0) throw new Problem(400, 'Bad Request', 'the body must be the report as a message/rfc822 message');
      const id = await storeReport(db, { source: 'api', raw, envelopeFrom: null, remoteAddress: request.ip, now: deps.clock.now() });
      received.inc({ source: 'api' });
      request.log.info({ reportId: id, size: raw.length }, 'complaint.received');
      deps.onWorkQueued?.();
      return reply.code(202).send({ id, status: 'queued' as const });
    },
  );

  app.get(
    '/v1/complaints',
    {
      onRequest: requireRole(db, 'agent'),
      schema: {
        tags: ['complaints'],
        operationId: 'listComplaints',
        summary: 'Complaint reports received, newest first (the raw message is not included)',
        querystring: z.object({
          outcome: z.enum(['counted', 'duplicate', 'unattributed', 'dead_letter', 'pending']).optional(),
          tenantId: TenantId.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: ComplaintReportPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      let rows = db
        .selectFrom('complaint_reports')
        .select(['id', 'received_at', 'source', 'status', 'outcome', 'format', 'feedback_type', 'source_ip', 'arrival_date', 'message_id', 'mail_from', 'subject', 'tenant_id', 'attributed_by', 'attribution_detail', 'last_error'])
        .orderBy('received_at', 'desc')
        .orderBy('id')
        .limit(q.limit);
      if (q.outcome === 'pending') rows = rows.where('status', '<>', 'done');
      else if (q.outcome) rows = rows.where('outcome', '=', q.outcome);
      if (q.tenantId) rows = rows.where('tenant_id', '=', q.tenantId);
      const items = (await rows.execute()).map((r) => ({
        id: r.id,
        receivedAt: r.received_at.toISOString(),
        source: r.source,
        status: r.status,
        outcome: r.outcome,
        format: r.format,
        feedbackType: r.feedback_type,
        sourceIp: r.source_ip,
        arrivalDate: iso(r.arrival_date),
        messageId: r.message_id,
        mailFrom: r.mail_from,
        subject: r.subject,
        tenantId: r.tenant_id,
        attributedBy: r.attributed_by,
        attributionDetail: r.attribution_detail,
        lastError: r.last_error,
      }));
      return { items };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/ips',
    { onRequest: requireRole(db, 'agent'), schema: { tags: ['tenants'], operationId: 'getTenantIps', summary: 'The IP ranges a tenant sends from (attribute complaint reports by Source-IP)', params: Params, response: { 200: IpAssignmentReply, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => {
      if (!(await getTenant(db, request.params.tenantId))) throw notFound(`tenant ${request.params.tenantId}`);
      return { tenantId: request.params.tenantId, ips: (await tenantIps(db, request.params.tenantId)).map(ipView) };
    },
  );

  app.put(
    '/v1/tenants/:tenantId/ips',
    {
      onRequest: requireRole(db, 'admin'),
      schema: {
        tags: ['tenants'],
        operationId: 'putTenantIps',
        summary: "Replace a tenant's IP assignments: CIDR ranges, each optionally for a period",
        description: 'A range may be assigned to another tenant only for a period that does not overlap (a reassigned IP blames the right tenant for the right time); 409 names the conflicts.',
        params: Params,
        body: IpAssignmentList,
        response: { 200: IpAssignmentReply, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { tenantId } = request.params;
      if (!(await getTenant(db, tenantId))) throw notFound(`tenant ${tenantId}`);
      const errors: { field: string; message: string }[] = [];
      const mine: (IpAssignment & { note: string | null })[] = [];
      request.body.forEach((a, i) => {
        const c = normalizeCidr(a.cidr);
        if (!c.ok) errors.push({ field: `body.${i}.cidr`, message: c.reason });
        const validFrom = a.validFrom ? new Date(a.validFrom) : null;
        const validUntil = a.validUntil ? new Date(a.validUntil) : null;
        if (validFrom && validUntil && validUntil <= validFrom) errors.push({ field: `body.${i}.validUntil`, message: 'must be after validFrom' });
        if (c.ok) mine.push({ tenantId, cidr: c.cidr, validFrom, validUntil, note: a.note ?? null });
      });
      if (errors.length) throw new Problem(400, 'Bad Request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
      const ips = await db.transaction().execute(async (trx) => {
        // Serialised: two admins assigning the same range to two tenants cannot both pass the check.
        await sql`select pg_advisory_xact_lock(hashtextextended('tenant_ips', 0))`.execute(trx);
        const others = await assignmentsOfRanges(trx, [...new Set(mine.map((a) => a.cidr))], tenantId);
        const conflicts = assignmentConflicts(mine, others);
        if (conflicts.length) throw new Problem(409, 'Conflict', conflicts.join('; '));
        await replaceTenantIps(trx, tenantId, mine, deps.clock.now());
        return tenantIps(trx, tenantId);
      });
      request.log.info({ tenantId, ranges: ips.length }, 'tenant.ips.replaced');
      return { tenantId, ips: ips.map(ipView) };
    },
  );
};
