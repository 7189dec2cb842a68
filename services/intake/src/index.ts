// The intake role (issue 17): complaint reports from mailbox providers and abuse reporters. An SMTP
// listener takes ARF / X-ARF reports at any address and stores each raw before answering 250 (so does
// POST /v1/complaints on the api); a loop claims stored reports, parses them, works out which tenant sent
// the reported message (the signed X-Abuse-Desk-Tenant stamp, else the Source-IP against the tenants' IP
// assignments) and counts them against the complaint rule — or keeps them unattributed, or as dead letters.
import type { Config } from '@abuse-desk/config';
import { backoffMs, claimReports, complaintReportsReceivedMetric, counterMetric, forgetReports, gaugeMetric, oldestPendingReportAge, pollLoop, retryReport, storeReport } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { processReport } from './process.js';
import { startIntakeSmtp } from './smtp.js';

export { parseReport, sampleHeaders } from './parse.js';
export type { ParsedReport, ParseResult } from './parse.js';

export interface IntakeDeps {
  db: Db;
  config: Pick<Config, 'intake' | 'host' | 'resolutionTimeoutSeconds' | 'enforcementDestinations' | 'workLeaseSeconds'>;
  logger: Logger;
  clock: { now(): Date };
  registry: Registry;
  workerId: string;
  /** Work was queued (a ticket opened): wakes the notifier in this process. */
  onWorkQueued?: () => void;
  idleMs?: number;
}

export interface IntakeMetrics {
  received: Counter<'source'>;
  processed: Counter<'outcome' | 'attributed_by'>;
}

/** The counters of received and processed reports (the received one is shared with the api's POST /v1/complaints). */
export function intakeMetrics(registry: Registry): IntakeMetrics {
  return {
    received: complaintReportsReceivedMetric(registry),
    processed: counterMetric(registry, { name: 'abuse_desk_complaint_reports_processed_total', help: 'Complaint reports processed, by outcome (counted, duplicate, unattributed, dead_letter) and how they were attributed (stamp, ip, none)', labelNames: ['outcome', 'attributed_by'] }),
  };
}

/** Reports claimed and processed together: below the pool's ten connections, so SMTP stores are not starved. */
const BATCH = 8;
/** Old reports deleted per statement. */
const FORGET_BATCH = 1000;
/** From two seconds, at most five minutes apart. */
const REPORT_BACKOFF = { firstMs: 2000, capMs: 300_000 };

export async function startIntake(deps: IntakeDeps) {
  const log = deps.logger.child({ role: 'intake' });
  const metrics = intakeMetrics(deps.registry);
  gaugeMetric(deps.registry, {
    name: 'abuse_desk_complaint_queue_oldest_seconds',
    help: 'Age of the oldest complaint report not yet processed (0 when none waits)',
    async collect() {
      const r = await Promise.race([oldestPendingReportAge(deps.db, deps.clock.now()), new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))]).catch(() => null);
      if (r) this.set(r.oldestSeconds);
    },
  });
  if (!deps.config.intake.stampSecret) log.warn({ hint: 'set TENANT_STAMP_SECRET to attribute reports by the X-Abuse-Desk-Tenant stamp' }, 'intake.stamp.disabled');

  const tick = async () => {
    const claimed = await claimReports(deps.db, { now: deps.clock.now(), limit: BATCH, leaseSeconds: deps.config.workLeaseSeconds, workerId: deps.workerId });
    // Several at once: each is its own transaction and mostly waits on the database (bench/intake measured
    // one at a time). Reports of one tenant meet at its ticket row and at the per-message advisory lock.
    await Promise.all(
      claimed.map((r) =>
        processReport(deps, r, log, metrics).catch(async (err: unknown) => {
          // Tried again with backoff; a report that keeps failing ends as a dead letter (processReport).
          log.error({ err, reportId: r.id, tries: r.tries }, 'intake.report.error');
          const message = err instanceof Error ? err.message : String(err);
          await retryReport(deps.db, r.id, message, new Date(deps.clock.now().getTime() + backoffMs(r.tries, REPORT_BACKOFF))).catch((e: unknown) => log.error({ err: e, reportId: r.id }, 'intake.report.retry_failed'));
        }),
      ),
    );
    return claimed.length;
  };
  const loop = pollLoop({ name: 'intake', idleMs: deps.idleMs ?? 500, tick, onError: (err) => log.error({ err }, 'intake.tick.failed') });
  // Retention: processed reports older than COMPLAINT_RETENTION_DAYS are deleted in batches of a thousand,
  // so one statement never holds many locks; while a batch was full the next follows at once, else a
  // minute later. Several intake processes may do it at once: a row is deleted once.
  const upkeep = pollLoop({
    name: 'complaint-retention',
    idleMs: 60_000,
    tick: async () => {
      const before = new Date(deps.clock.now().getTime() - deps.config.intake.retentionDays * 86_400_000);
      const n = await forgetReports(deps.db, before, FORGET_BATCH);
      if (n) log.info({ deleted: n, before }, 'intake.reports.forgotten');
      return n === FORGET_BATCH ? 1 : 0;
    },
    onError: (err) => log.error({ err }, 'intake.retention.failed'),
  });
  const smtp = await startIntakeSmtp({
    host: deps.config.host,
    port: deps.config.intake.smtpPort,
    maxBytes: deps.config.intake.maxMessageBytes,
    maxConnections: deps.config.intake.maxConnections,
    maxConnectionsPerAddress: Math.max(1, Math.floor(deps.config.intake.maxConnections / 4)),
    tls: deps.config.intake.tls,
    logger: log,
    store: async (raw, envelope) => {
      const id = await storeReport(deps.db, { source: 'smtp', raw, envelopeFrom: envelope.from, remoteAddress: envelope.remoteAddress, now: deps.clock.now() });
      metrics.received.inc({ source: 'smtp' });
      loop.nudge();
      return id;
    },
  });
  return {
    smtpPort: smtp.port,
    nudge: () => loop.nudge(),
    stop: async () => {
      await smtp.close();
      await loop.stop();
      await upkeep.stop();
    },
  };
}
