// The tenant's side (SPEC §7): the resolution page behind the emailed link and the resolution endpoint.
// A token grants one ticket's summary and resolution, nothing else; an unknown ticket and a wrong token
// get the same answer, so the endpoint reveals nothing about other tickets.
import { ResolutionBody, ResolutionReceipt, problemResponses } from '@abuse-desk/contracts';
import type { TicketState } from '@abuse-desk/contracts';
import { applyCommand, getTenant, ticketForToken } from '@abuse-desk/db';
import type { Evidence, Ticket } from '@abuse-desk/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { Problem, conflict } from '../problems.js';
import { RateLimiter, refusal } from '../rate-limit.js';
import type { FastifyReply } from 'fastify';
import { RESOLVE_ASSETS, resolutionPage } from './resolution-page.js';

const TokenParams = z.object({ token: z.string().min(1).max(200) });
const unknownTicket = () => new Problem(404, 'Not Found', 'no open ticket matches this ticket number and token');

export const resolutionRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { db } = deps;
  // Per client address: page views and submissions; per ticket (number or token): submissions.
  const perAddress = new RateLimiter(60, 60_000);
  const perTicket = new RateLimiter(10, 10 * 60_000);
  const limit = (reply: FastifyReply, ...checks: [RateLimiter, string][]) => {
    const wait = refusal(reply, deps.clock.now().getTime(), ...checks);
    if (wait !== null) throw new Problem(429, 'Too Many Requests', `too many requests; try again in ${wait} s`);
  };

  /** Records the tenant's resolution: state, text and event in one transaction. */
  const submit = (ticket: Ticket, body: { actionsTaken: string; contactName?: string | undefined }) =>
    db.transaction().execute((trx) =>
      applyCommand(trx, ticket.id, { type: 'resolution_submitted', actionsTaken: body.actionsTaken, contactName: body.contactName ?? null }, {
        now: deps.clock.now(),
        resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds,
        actor: `tenant:${body.contactName ?? ticket.tenant_id}`,
        destinations: deps.config.enforcementDestinations,
        reason: body.actionsTaken,
      }),
    );

  app.post(
    '/v1/resolutions',
    {
      schema: {
        tags: ['resolutions'],
        operationId: 'submitResolution',
        summary: 'The tenant reports the fix (ticket number + token from the email)',
        security: [],
        body: ResolutionBody,
        response: { 202: ResolutionReceipt, ...problemResponses(400, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      limit(reply, [perAddress, `ip:${request.ip}`], [perTicket, `ticket:${request.body.ticketNumber}`]);
      const ticket = await ticketForToken(db, request.body.token);
      if (!ticket || ticket.number !== request.body.ticketNumber) throw unknownTicket();
      const r = await submit(ticket, request.body);
      if (!r.ok) throw r.reason === 'not_found' ? unknownTicket() : conflict(`this ticket is ${r.ticket.state.replace(/_/g, ' ')}; it no longer takes a resolution`);
      request.log.info({ ticketNumber: ticket.number, tenantId: ticket.tenant_id }, 'resolution.submitted');
      // The time stored with the submission, not the time of this reply.
      return reply.code(202).send({ ticketNumber: ticket.number, state: r.ticket.state as TicketState, submittedAt: r.ticket.resolution_submitted_at!.toISOString() });
    },
  );

  const page = async (token: string, form?: { actionsTaken?: string; contactName?: string; error?: string; submitted?: boolean }) => {
    const ticket = await ticketForToken(db, token);
    if (!ticket) return null;
    const tenant = await getTenant(db, ticket.tenant_id);
    return resolutionPage({
      number: ticket.number,
      tenantId: ticket.tenant_id,
      tenantName: tenant?.name ?? ticket.tenant_id,
      state: ticket.state,
      evidence: ticket.evidence as Evidence,
      deadlineAt: ticket.deadline_at,
      outboundDisabled: ticket.outbound_disabled,
      resolutionText: ticket.resolution_text,
      now: deps.clock.now(),
      form: form ?? {},
    });
  };
  const notFoundPage = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not valid</title></head><body><h1>This link is not valid</h1><p>Use the link from the most recent abuse-desk email, or reply to that email.</p></body></html>';

  // The resolution page's style and countdown script: files, because the page allows no inline code.
  app.get('/resolve-assets/:file', { schema: { hide: true, params: z.object({ file: z.enum(['page.css', 'countdown.js']) }) } }, async (request, reply) =>
    reply
      .type(request.params.file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(RESOLVE_ASSETS[request.params.file]),
  );

  app.get('/resolve/:token', { schema: { hide: true, params: TokenParams } }, async (request, reply) => {
    limit(reply, [perAddress, `ip:${request.ip}`]);
    const html = await page(request.params.token);
    return reply.code(html ? 200 : 404).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html ?? notFoundPage);
  });

  // The page's form posts here (form-encoded), so the page works without JavaScript.
  app.post(
    '/resolve/:token',
    { schema: { hide: true, params: TokenParams, body: z.object({ actionsTaken: z.string().default(''), contactName: z.string().default('') }) } },
    async (request, reply) => {
      const html = (body: string, code: number) => reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(body);
      limit(reply, [perAddress, `ip:${request.ip}`], [perTicket, `token:${request.params.token}`]);
      const ticket = await ticketForToken(db, request.params.token);
      if (!ticket) return html(notFoundPage, 404);
      const actionsTaken = request.body.actionsTaken.trim();
      const contactName = request.body.contactName.trim() || undefined;
      const parsed = ResolutionBody.shape.actionsTaken.safeParse(actionsTaken);
      if (!parsed.success) {
        return html((await page(request.params.token, { actionsTaken, contactName: contactName ?? '', error: `Actions taken ${parsed.error.issues[0]?.message ?? 'are invalid'}.` }))!, 400);
      }
      const r = await submit(ticket, { actionsTaken, contactName });
      if (!r.ok) return html((await page(request.params.token, { error: 'This ticket is closed and no longer takes a resolution.' }))!, 409);
      request.log.info({ ticketNumber: ticket.number, tenantId: ticket.tenant_id }, 'resolution.submitted');
      return html((await page(request.params.token, { submitted: true }))!, 200);
    },
  );
};
