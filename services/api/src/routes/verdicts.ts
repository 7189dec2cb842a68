// HTTP ingest of verdicts (SPEC §4): the same validation and counting as the Kafka consumer; the answer
// says how many were accepted, duplicated and rejected, and why each rejected one was.
import { MAX_VERDICTS_PER_REQUEST, Verdict, VerdictIngestReply, problemResponses, verdictProblem } from '@abuse-desk/contracts';
import { KnownTenants, countVerdicts, ticketsOpenedMetric, verdictsMetric } from '@abuse-desk/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { requireRole } from '../auth.js';

export const verdictRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const counted = verdictsMetric(deps.registry);
  const opened = ticketsOpenedMetric(deps.registry);
  const knownTenants = new KnownTenants();

  app.post(
    '/v1/verdicts',
    {
      onRequest: requireRole(deps.db, 'ingest'),
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        tags: ['verdicts'],
        operationId: 'ingestVerdicts',
        summary: `Ingest up to ${MAX_VERDICTS_PER_REQUEST} verdicts`,
        body: z.array(z.unknown()).max(MAX_VERDICTS_PER_REQUEST),
        response: { 200: VerdictIngestReply, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const valid: Verdict[] = [];
      const errors: { index: number; reason: string }[] = [];
      request.body.forEach((raw, index) => {
        const parsed = Verdict.safeParse(raw);
        if (parsed.success) valid.push(parsed.data);
        else errors.push({ index, reason: verdictProblem(parsed.error) });
      });
      const now = deps.clock.now();
      const result = await deps.db.transaction().execute((trx) => countVerdicts(trx, valid, { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, actor: 'system:counter', destinations: deps.config.enforcementDestinations, dedupeWindowSeconds: deps.config.dedupeWindowSeconds, knownTenants }));
      knownTenants.addAll(result.newTenants); // committed: they exist
      for (const [verdict, n] of Object.entries(result.acceptedByVerdict)) counted.inc({ source: 'http', result: 'counted', verdict }, n);
      counted.inc({ source: 'http', result: 'duplicate', verdict: 'any' }, result.duplicates);
      counted.inc({ source: 'http', result: 'rejected', verdict: 'any' }, errors.length);
      if (result.opened.length) {
        opened.inc({ source: 'http' }, result.opened.length);
        request.log.info({ tickets: result.opened }, 'tickets.opened');
        deps.onWorkQueued?.();
      }
      return { accepted: result.accepted, duplicates: result.duplicates, rejected: errors.length, errors, ticketsOpened: result.opened };
    },
  );
};
