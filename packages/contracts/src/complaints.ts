// Complaint reports (issue 17): what POST /v1/complaints answers, how agents see received reports, and a
// tenant's IP assignments (CIDR ranges, optionally for a period) used to attribute reports by Source-IP.
import { z } from 'zod';
import { Instant } from './ids.js';

export const ComplaintAccepted = z
  .object({ id: z.string().describe('the stored report; processing follows'), status: z.literal('queued') })
  .meta({ id: 'ComplaintAccepted' });
export type ComplaintAccepted = z.infer<typeof ComplaintAccepted>;

export const COMPLAINT_OUTCOMES = ['counted', 'duplicate', 'unattributed', 'dead_letter'] as const;

export const ComplaintReportView = z
  .object({
    id: z.string(),
    receivedAt: Instant,
    source: z.enum(['smtp', 'api']),
    status: z.enum(['pending', 'dispatching', 'done']),
    outcome: z.enum(COMPLAINT_OUTCOMES).nullable().describe('counted against tenantId; duplicate of a counted report of the same message; unattributed (never counted); dead_letter (could not be parsed, see lastError)'),
    format: z.string().nullable().describe('arf or xarf'),
    feedbackType: z.string().nullable(),
    sourceIp: z.string().nullable(),
    arrivalDate: Instant.nullable(),
    messageId: z.string().nullable().describe('Message-ID of the reported message'),
    mailFrom: z.string().nullable(),
    subject: z.string().nullable(),
    tenantId: z.string().nullable(),
    attributedBy: z.enum(['stamp', 'ip']).nullable(),
    attributionDetail: z.string().nullable().describe('why the report was (or was not) attributed: the stamp check, the matching range'),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'ComplaintReport' });
export type ComplaintReportView = z.infer<typeof ComplaintReportView>;

export const ComplaintReportPage = z.object({ items: z.array(ComplaintReportView) }).meta({ id: 'ComplaintReportPage' });

export const IpAssignmentBody = z.object({
  cidr: z.string().min(2).max(64).describe('an address or CIDR range: 192.0.2.0/24, 2001:db8::/48, 192.0.2.7'),
  validFrom: z.iso.datetime({ offset: true }).optional().describe('from this instant (inclusive); absent: always before validUntil'),
  validUntil: z.iso.datetime({ offset: true }).optional().describe('until this instant (exclusive); absent: open-ended'),
  note: z.string().max(500).optional(),
});
export const IpAssignmentList = z.array(IpAssignmentBody).max(1000);

export const IpAssignmentView = z
  .object({ cidr: z.string(), validFrom: Instant.nullable(), validUntil: Instant.nullable(), note: z.string().nullable() })
  .meta({ id: 'IpAssignment' });
export const IpAssignmentReply = z.object({ tenantId: z.string(), ips: z.array(IpAssignmentView) }).meta({ id: 'IpAssignments' });
export type IpAssignmentReply = z.infer<typeof IpAssignmentReply>;
