// Acknowledge by link (issue 16). The link in a contact's email opens a page (GET changes nothing, so a mail
// scanner that fetches links in advance acknowledges nothing); only its button, a form POST that works
// without JavaScript, acknowledges — with the same effect as pressing 1 on a call.
import { acknowledgeByLink, ackTarget } from '@abuse-desk/db';
import type { AckTarget } from '@abuse-desk/db';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { RateLimiter, refusal } from '../rate-limit.js';
import { escapeHtml as h, messagePage } from './html.js';

const TokenParams = z.object({ token: z.string().min(1).max(200) });
const CLOSED = ['resolved', 'dismissed'];
const utc = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC`;

const what = (t: AckTarget) => {
  const e = t.evidence;
  const minutes = Math.round(e.windowSeconds / 60);
  if (t.evidence.rule === 'virus') return `${e.counts.virus} messages carrying viruses in ${minutes} minutes`;
  if (t.evidence.rule === 'surge') return `an unusual surge of outbound mail (${e.total} messages in ${minutes} minutes)`;
  return `${e.counts.spam + e.counts.phish} of ${e.total} messages judged spam or phishing in ${minutes} minutes`;
};

/** The page behind the link: what the ticket is about, and the one button. */
const askPage = (t: AckTarget) =>
  messagePage(
    `Acknowledge ticket ${h(t.number)}`,
    `Our filters found ${h(what(t))} from <strong>${h(t.tenantName)}</strong>. You are <strong>${h(t.contact.name)}</strong> on its abuse contact list.</p>
<p>${
      t.contact.role === 'tam'
        ? 'As its account manager your acknowledgement is recorded on the ticket; the tenant\u2019s own contacts are still called until one of them acknowledges.'
        : 'Acknowledging tells us you are taking care of it: we stop calling your colleagues, and the tenant then has one hour to report the fix before its outbound mail is suspended.'
    }</p>
<form method="post"><button type="submit">Acknowledge ${h(t.number)}</button></form>
<p>Other ways: press 1 when we call you.`,
  );

export const acknowledgementRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const perAddress = new RateLimiter(60, 60_000);
  const send = (reply: FastifyReply, code: number, html: string) =>
    reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html);
  const limited = (reply: FastifyReply, ip: string) => {
    const wait = refusal(reply, deps.clock.now().getTime(), [perAddress, `ip:${ip}`]);
    if (wait !== null) void send(reply, 429, messagePage('Too many requests', `Try again in ${wait} s.`));
    return wait !== null;
  };
  const invalid = messagePage('This acknowledgement link is not valid', 'Use the link from the most recent abuse-desk email, or press 1 when we call you.');
  /** A link of a closed ticket has expired; one whose ticket needs no acknowledgement any more says so. */
  const notNeeded = (t: AckTarget) =>
    CLOSED.includes(t.state)
      ? ([410, messagePage(`Ticket ${h(t.number)} is closed`, 'This acknowledgement link expired when the ticket was closed. Nothing more is needed from you.')] as const)
      : ([
          409,
          messagePage(
            `Ticket ${h(t.number)} needs no acknowledgement now`,
            `It is ${h(t.state.replace(/_/g, ' '))}${t.deadlineAt ? `; the fix is due by ${h(utc(t.deadlineAt))}` : ''}. Use the resolution link in the email to report the fix.`,
          ),
        ] as const);

  app.get('/ack/:token', { schema: { hide: true, params: TokenParams } }, async (request, reply) => {
    if (limited(reply, request.ip)) return reply;
    const t = await ackTarget(deps.db, request.params.token);
    if (!t) return send(reply, 404, invalid);
    if (CLOSED.includes(t.state) || (!t.walking && t.state !== 'notifying')) {
      const [code, page] = notNeeded(t);
      return send(reply, code, page);
    }
    return send(reply, 200, askPage(t));
  });

  app.post('/ack/:token', { schema: { hide: true, params: TokenParams } }, async (request, reply) => {
    if (limited(reply, request.ip)) return reply;
    const now = deps.clock.now();
    const r = await deps.db
      .transaction()
      .execute((trx) => acknowledgeByLink(trx, request.params.token, { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, destinations: deps.config.enforcementDestinations }));
    if (!r.target) return send(reply, 404, invalid);
    const t = r.target;
    if (!r.ok) {
      const [code, page] = notNeeded(t);
      return send(reply, code, page);
    }
    deps.onWorkQueued?.();
    request.log.info({ ticketNumber: t.number, contact: t.contact.name, role: t.contact.role }, 'ticket.acknowledged_by_link');
    if (t.contact.role === 'tam') {
      return send(reply, 200, messagePage(`Thank you — recorded on ${h(t.number)}`, 'Your acknowledgement is on the ticket. The tenant\u2019s contacts are still called until one of them acknowledges.'));
    }
    const due = t.deadlineAt ? ` The fix is due by <strong>${h(utc(t.deadlineAt))}</strong>; report it with the resolution link in the email.` : '';
    return send(reply, 200, messagePage(`Thank you — you acknowledged ${h(t.number)}`, `We have stopped calling, and everyone on the list is told that you are on it.${due}`));
  });
};
