// Twilio's voice and messaging webhooks (SPEC §7, §8; SMS: issue 16). Every request must carry a valid X-Twilio-Signature computed with
// the auth token over PUBLIC_BASE_URL + path and query — never over the Host header, which a proxy
// rewrites; anything else gets 403 and changes nothing. Handlers answer at once: work on other calls
// (cancelling them after a key press, the voicemail, hanging up on a fax) is queued as call commands in
// the same transaction and carried out by the notifier, so it survives this process.
import { callScript, digestCallScript, gatherTwiml, sayAndHangUp, smsReplyText, spokenDeadline, spokenTicketNumber } from '@abuse-desk/channels';
import { applyCallStatus, applyMessageStatus, clearSmsOptOut, digestCallSummary, findAttempt, messageView, recordAnsweredBy, recordDigits, recordSmsOptOut, smsReply } from '@abuse-desk/db';
import { callStillWanted } from '@abuse-desk/domain';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import type { ApiDeps } from '../app.js';
import { Problem, sendProblem } from '../problems.js';

type Form = Record<string, string | string[] | undefined>;

/** Twilio's default opt-out and opt-in keywords (a whole message, any case). */
const OPT_OUT_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
const OPT_IN_WORDS = new Set(['START', 'UNSTOP', 'YES']);
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

export const twilioRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const authToken = deps.config.twilio?.authToken;
  const base = deps.config.publicBaseUrl;
  const hook = (name: string, attemptId: string, extra = '') => `${base}/webhooks/twilio/${name}?a=${encodeURIComponent(attemptId)}${extra}`;
  const ctx = () => ({ now: deps.clock.now(), resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, actor: 'twilio', destinations: deps.config.enforcementDestinations });
  const twiml = (reply: FastifyReply, xml: string) => reply.type('text/xml; charset=utf-8').send(xml);

  const verify = async (request: FastifyRequest, reply: FastifyReply) => {
    const signature = request.headers['x-twilio-signature'];
    const params = (request.body ?? {}) as Form;
    const ok = !!authToken && typeof signature === 'string' && twilio.validateRequest(authToken, signature, base + request.url, params as Record<string, string>);
    if (!ok) {
      request.log.warn({ url: request.url, hasSignature: typeof signature === 'string', configured: !!authToken }, 'twilio.signature.rejected');
      return sendProblem(reply, new Problem(403, 'Forbidden', 'the X-Twilio-Signature header is missing or does not match'));
    }
  };
  const opts = { preHandler: verify, schema: { hide: true } };
  const attemptIdOf = (request: FastifyRequest) => String((request.query as { a?: string }).a ?? '');

  // The message, inside a one-digit Gather.
  app.post('/webhooks/twilio/voice', opts, async (request, reply) => {
    const id = attemptIdOf(request);
    const loop = Number((request.query as { loop?: string }).loop ?? '0') || 0;
    const attempt = await findAttempt(deps.db, id).catch(() => undefined);
    if (!attempt) return twiml(reply, sayAndHangUp('This is the abuse desk of your mail provider. This call is no longer needed. Goodbye.'));
    const view = await messageView(deps.db, attempt.ticket_id, '', { now: deps.clock.now(), resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds });
    if (!view) return twiml(reply, sayAndHangUp('This call is no longer needed. Goodbye.'));
    if (!callStillWanted(attempt.kind, view.walking)) {
      const by = view.acknowledgedBy ? ` by ${view.acknowledgedBy}` : '';
      return twiml(reply, sayAndHangUp(`This is the abuse desk of your mail provider. Ticket ${spokenTicketNumber(view.number)} for ${view.tenantName} was already acknowledged${by}. Thank you. An email with the details follows. Goodbye.`));
    }
    // A digest call (issue 14) says how many tickets wait; the details are in the digest email.
    if (attempt.digest_id) return twiml(reply, sayAndHangUp(digestCallScript({ ...(await digestCallSummary(deps.db, attempt.digest_id)), name: attempt.contact_name })));
    const script = callScript(view, { name: attempt.contact_name, timezone: attempt.timezone });
    return twiml(reply, gatherTwiml({ script, gatherUrl: hook('gather', id), repeatUrl: loop < 2 ? hook('voice', id, `&loop=${loop + 1}`) : null }));
  });

  // A key press. Only the digit 1 acknowledges.
  app.post('/webhooks/twilio/gather', opts, async (request, reply) => {
    const id = attemptIdOf(request);
    const body = request.body as Form;
    const digits = one(body['Digits']);
    const attempt = await findAttempt(deps.db, id).catch(() => undefined);
    if (!attempt) return twiml(reply, sayAndHangUp('This call is no longer needed. Goodbye.'));
    if (digits !== '1') {
      return twiml(reply, gatherTwiml({ script: 'Only the digit 1 acknowledges this ticket. Press 1 now to acknowledge.', gatherUrl: hook('gather', id), repeatUrl: null }));
    }
    const { acknowledged } = await deps.db.transaction().execute((trx) => recordDigits(trx, id, digits, ctx()));
    const view = await messageView(deps.db, attempt.ticket_id, '');
    if (!view) return twiml(reply, sayAndHangUp('Thank you. Goodbye.'));
    if (acknowledged) {
      request.log.info({ attemptId: id, ticketNumber: view.number, contact: attempt.contact_name }, 'call.acknowledged');
      // The other live calls were queued for cancelling in that transaction: wake the notifier.
      deps.onWorkQueued?.();
    }
    const deadline = view.deadlineAt ? ` Outbound mail for ${view.tenantName} will be disabled at ${spokenDeadline(view.deadlineAt, attempt.timezone)} unless the fix is reported through the link in our email.` : '';
    const who = acknowledged || !view.acknowledgedBy ? 'You acknowledged' : `${view.acknowledgedBy} already acknowledged`;
    return twiml(reply, sayAndHangUp(`Thank you. ${who} ticket ${spokenTicketNumber(view.number)}.${deadline} Goodbye.`));
  });

  // Asynchronous answering-machine detection: after a greeting's end, replace the call's message with the voicemail.
  app.post('/webhooks/twilio/amd', opts, async (request, reply) => {
    const id = attemptIdOf(request);
    const body = request.body as Form;
    const answeredBy = one(body['AnsweredBy']);
    const callSid = one(body['CallSid']);
    const exists = answeredBy ? await findAttempt(deps.db, id).catch(() => undefined) : undefined;
    // The result and the command it calls for (voicemail, hang-up) are stored together; the notifier performs it.
    const attempt = exists ? await deps.db.transaction().execute((trx) => recordAnsweredBy(trx, id, { answeredBy, callSid }, deps.clock.now())) : null;
    if (!attempt) return reply.code(204).send(); // a late result after the call ended: ignored
    request.log.info({ attemptId: id, answeredBy }, 'call.answered_by');
    deps.onWorkQueued?.();
    return reply.code(204).send();
  });

  // Call status callbacks: repeated and out of order; applied by SequenceNumber, a final state is never left.
  app.post('/webhooks/twilio/status', opts, async (request, reply) => {
    const id = attemptIdOf(request);
    const body = request.body as Form;
    const status = one(body['CallStatus']);
    const seq = one(body['SequenceNumber']);
    const sequence = /^\d+$/.test(seq) ? Number(seq) : null;
    const exists = await findAttempt(deps.db, id).catch(() => undefined);
    if (!exists || !status) return reply.code(204).send();
    const r = await deps.db.transaction().execute((trx) => applyCallStatus(trx, id, { callSid: one(body['CallSid']), status, sequence }, ctx()));
    request.log.info({ attemptId: id, status, sequence, applied: r.applied, outcome: r.outcome }, 'call.status');
    if (r.outcome) deps.onWorkQueued?.();
    return reply.code(204).send();
  });

  // SMS status callbacks (issue 16): kept in order of Twilio's statuses; a failed walk SMS moves the walk on.
  app.post('/webhooks/twilio/sms-status', opts, async (request, reply) => {
    const id = attemptIdOf(request);
    const body = request.body as Form;
    const status = one(body['MessageStatus']) || one(body['SmsStatus']);
    const code = one(body['ErrorCode']);
    const exists = status ? await findAttempt(deps.db, id).catch(() => undefined) : undefined;
    if (!exists) return reply.code(204).send();
    const r = await deps.db.transaction().execute((trx) => applyMessageStatus(trx, id, { messageSid: one(body['MessageSid']), status, errorCode: /^\d+$/.test(code) ? Number(code) : null }, ctx()));
    request.log.info({ attemptId: id, status, errorCode: code || undefined, applied: r.applied, ended: r.ended }, 'sms.status');
    if (r.ended) deps.onWorkQueued?.();
    return reply.code(204).send();
  });

  // An SMS to our number (issue 16): the Messaging webhook of the number or the Messaging Service. A reply
  // with the ticket's code acknowledges; STOP/START keep the opt-out list; anything else is kept on the
  // ticket and answered with how to acknowledge. Only open tickets that texted that number are touched.
  app.post('/webhooks/twilio/sms', opts, async (request, reply) => {
    const body = request.body as Form;
    const from = one(body['From']);
    const text = one(body['Body']);
    const messageSid = one(body['MessageSid']);
    const respond = (message: string | null) => {
      const r = new twilio.twiml.MessagingResponse();
      if (message) r.message(message);
      return twiml(reply, r.toString());
    };
    if (!/^\+[1-9]\d{6,14}$/.test(from)) {
      // A short code, an alphanumeric sender or a broken request: nobody we text, nothing to record.
      request.log.warn({ messageSid, fromLength: from.length }, 'sms.unknown_sender_format');
      return respond(null);
    }
    const keyword = text.trim().toUpperCase();
    // Twilio answers these itself (and blocks further SMS to the number until START); we keep the same list.
    if (OPT_OUT_WORDS.has(keyword)) {
      await recordSmsOptOut(deps.db, from, `${keyword} reply (message ${messageSid})`, deps.clock.now());
      request.log.info({ messageSid, keyword }, 'sms.opted_out');
      return respond(null);
    }
    if (OPT_IN_WORDS.has(keyword)) {
      const cleared = await clearSmsOptOut(deps.db, from);
      request.log.info({ messageSid, keyword, cleared }, 'sms.opted_in');
      return respond(null);
    }
    const r = await deps.db.transaction().execute((trx) => smsReply(trx, { from, body: text }, { now: deps.clock.now(), resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, destinations: deps.config.enforcementDestinations }));
    request.log.info({ messageSid, result: r.kind, tickets: 'tickets' in r ? r.tickets.map((x) => x.number) : 'ticket' in r ? [r.ticket.number] : [], length: text.length }, 'sms.received');
    switch (r.kind) {
      case 'unknownSender':
        // Nothing of ours went to this number lately: no answer (an answer costs, and tells a stranger nothing useful).
        return respond(null);
      case 'acknowledged': {
        deps.onWorkQueued?.();
        const first = r.tickets[0]!;
        const view = await messageView(deps.db, first.ticketId, '');
        return respond(smsReplyText({ kind: 'acknowledged', number: r.tickets.map((x) => x.number).join(', '), tenantName: view?.tenantName ?? '', deadlineAt: view?.deadlineAt ?? null }));
      }
      case 'notNeeded': {
        const first = r.tickets[0]!;
        const view = await messageView(deps.db, first.ticketId, '');
        return respond(smsReplyText({ kind: 'notNeeded', number: first.number, acknowledgedBy: view?.acknowledgedBy ?? null, state: view?.state ?? 'closed' }));
      }
      case 'closed':
        // A late answer to a ticket closed in the last days: say so, so that nobody waits for a reply that will not come.
        return respond(smsReplyText({ kind: 'notNeeded', number: r.ticket.number, acknowledgedBy: null, state: r.ticket.state }));
      case 'recorded':
        return respond(smsReplyText({ kind: 'recorded', numbers: r.tickets.map((x) => x.number), codeGiven: r.codeGiven }));
    }
  });

  // When our voice webhook fails, Twilio asks here: never let a person hear "an application error occurred".
  app.post('/webhooks/twilio/fallback', opts, async (request, reply) => {
    request.log.error({ attemptId: attemptIdOf(request), error: one((request.body as Form)['ErrorCode']) }, 'twilio.fallback');
    return twiml(reply, sayAndHangUp('This is the abuse desk of your mail provider, about outbound spam from your account. We could not play the full message. An email with the details and a link follows. Goodbye.'));
  });
};
