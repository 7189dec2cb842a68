// Tickets and the agent actions of SPEC §7; a refused transition is 409, with the reason in words.
import { CallQueue, ContactReachedBody, DeadLetterPage, ExtendBody, NoteBody, NoteOnlyBody, ReasonBody, TICKET_STATES, TenantId, TicketDetail, TicketPage, problemResponses } from '@abuse-desk/contracts';
import type { TicketAction } from '@abuse-desk/contracts';
import { applyCommand, callQueueStats, findTicket, listDeadLetters, listTickets, ticketDetail } from '@abuse-desk/db';
import type { ContactSnapshot } from '@abuse-desk/db';
import type { TicketCommand } from '@abuse-desk/domain';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { actorOf, requireRole } from '../auth.js';
import { badRequest, conflict, notFound } from '../problems.js';

const Params = z.object({ id: z.string().min(1).max(64) });

export const ticketRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { db } = deps;
  const agent = requireRole(db, 'agent');
  const mustFind = async (idOrNumber: string) => {
    const t = await findTicket(db, idOrNumber);
    if (!t) throw notFound(`ticket ${idOrNumber}`);
    return t;
  };

  app.get(
    '/v1/tickets',
    {
      onRequest: agent,
      schema: {
        tags: ['tickets'],
        operationId: 'listTickets',
        summary: 'Tickets, newest first, with cursor paging',
        querystring: z.object({
          state: z.enum([...TICKET_STATES, 'open']).optional(),
          tenantId: TenantId.optional(),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: TicketPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const page = await listTickets(db, request.query);
      if (!page) throw badRequest('the cursor is not one this API gave out', [{ field: 'querystring.cursor', message: 'is invalid' }]);
      return page;
    },
  );

  app.get('/v1/tickets/:id', { onRequest: agent, schema: { tags: ['tickets'], operationId: 'getTicket', summary: 'A ticket with evidence, contact attempts and events', params: Params, response: { 200: TicketDetail, ...problemResponses(400, 401, 403, 404) } } }, async (request) =>
    ticketDetail(db, await mustFind(request.params.id)),
  );

  /** Runs one command in a transaction and answers with the ticket, or 409 when the lifecycle refuses it. */
  const act = async (idOrNumber: string, command: TicketCommand, request: Parameters<typeof actorOf>[0], reason: string, data?: Record<string, unknown>) => {
    const t = await mustFind(idOrNumber);
    const r = await db.transaction().execute((trx) =>
      applyCommand(trx, t.id, command, { now: deps.clock.now(), resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, actor: actorOf(request), destinations: deps.config.enforcementDestinations, reason, data: data ?? null }),
    );
    if (!r.ok) throw r.reason === 'not_found' ? notFound(`ticket ${idOrNumber}`) : conflict(r.detail);
    request.log.info({ ticketNumber: r.ticket.number, tenantId: r.ticket.tenant_id, action: command.type, state: r.ticket.state }, 'ticket.action');
    deps.onWorkQueued?.();
    return ticketDetail(db, r.ticket);
  };

  const operationIds: Record<TicketAction, string> = {
    'contact-reached': 'recordContactReached',
    notes: 'addTicketNote',
    extend: 'extendDeadline',
    suspend: 'suspendTicket',
    'reject-resolution': 'rejectResolution',
    resolve: 'resolveTicket',
    dismiss: 'dismissTicket',
  };
  // Every action may be refused by the lifecycle (409) except a note, which any ticket takes.
  const actionResponses = (path: TicketAction) => ({ 200: TicketDetail, ...(path === 'notes' ? problemResponses(400, 401, 403, 404) : problemResponses(400, 401, 403, 404, 409)) });
  const action = <B extends z.ZodType>(path: TicketAction, summary: string, body: B, handler: (id: string, body: z.infer<B>, request: Parameters<typeof actorOf>[0]) => Promise<TicketDetail>) =>
    app.post(`/v1/tickets/:id/${path}`, { onRequest: agent, schema: { tags: ['ticket actions'], operationId: operationIds[path], summary, params: Params, body, response: actionResponses(path) } }, async (request) =>
      handler(request.params.id, request.body as z.infer<B>, request),
    );

  action('contact-reached', 'Record that a contact was reached (stops the walk, starts the deadline)', ContactReachedBody, async (id, body, request) => {
    if (body.contactId) {
      const t = await mustFind(id);
      if (!(t.contacts as ContactSnapshot[]).some((c) => c.id === body.contactId)) throw badRequest('contactId is not a contact of this ticket', [{ field: 'body.contactId', message: 'is not a contact of this ticket' }]);
    }
    return act(id, { type: 'contact_reached', contactId: body.contactId ?? null }, request, body.note, { contactId: body.contactId ?? null });
  });
  action('notes', 'Add a note', NoteBody, (id, body, request) => act(id, { type: 'note' }, request, body.text));
  action('extend', 'Extend the running deadline', ExtendBody, (id, body, request) => act(id, { type: 'extend', minutes: body.minutes }, request, body.reason));
  action('suspend', "Suspend the tenant's outbound mail now; the reason is quoted to the tenant's contacts in the suspension notice", ReasonBody, (id, body, request) => act(id, { type: 'suspend' }, request, body.reason));
  action('reject-resolution', "Reject the tenant's resolution", NoteOnlyBody, (id, body, request) => act(id, { type: 'reject_resolution' }, request, body.note));
  action('resolve', 'Resolve the ticket (re-enables outbound mail if disabled)', NoteOnlyBody, (id, body, request) => act(id, { type: 'resolve' }, request, body.note));
  action('dismiss', 'Dismiss as a false positive (re-enables outbound mail if disabled)', ReasonBody, (id, body, request) => act(id, { type: 'dismiss' }, request, body.reason));

  app.get(
    '/v1/dead-letters',
    {
      onRequest: agent,
      schema: {
        tags: ['verdicts'],
        operationId: 'listDeadLetters',
        summary: 'Verdict messages that could not be counted',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), before: z.string().regex(/^\d+$/).optional() }),
        response: { 200: DeadLetterPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => ({ items: await listDeadLetters(db, request.query) }),
  );

  app.get(
    '/v1/call-queue',
    {
      onRequest: agent,
      schema: {
        tags: ['tickets'],
        operationId: 'getCallQueue',
        summary: 'Calls waiting to be placed, paced at TWILIO_CALLS_PER_SECOND',
        response: { 200: CallQueue, ...problemResponses(401, 403) },
      },
    },
    async () => ({ ...(await callQueueStats(db, deps.clock.now())), callsPerSecond: deps.config.callsPerSecond }),
  );
};
