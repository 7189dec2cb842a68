// The dialer: places calls at the pace the voice provider allows. A tick takes a call slot (shared by
// every notifier through the database), claims the most urgent call waiting, and gives the slot back
// one second after the provider answered — so TWILIO_CALLS_PER_SECOND holds across all notifiers. Before
// placing, the number's hourly allowance is checked (a call beyond it ends `rate-limited` and the walk
// goes on by email), and a TAM call to a number shared by several tenants waits for its digest.
import { callScript, digestCallScript } from '@abuse-desk/channels';
import { callWaiting, claimNextCall, digestCallSummary, holdForDigest, markAttemptCanceled, markCallPlaced, messageView, releaseCallSlot, reserveNumber, takeCallSlot } from '@abuse-desk/db';
import type { Claimed, ContactAttempt, TickResult } from '@abuse-desk/db';
import { callStillWanted } from '@abuse-desk/domain';
import type { Logger } from 'pino';
import { digested, finishCall } from './attempt.js';
import type { NotifierDeps, NotifierMetrics } from './index.js';

export async function dialTick(deps: NotifierDeps, log: Logger, metrics: NotifierMetrics): Promise<number | TickResult> {
  if (!(await callWaiting(deps.db, deps.clock.now()))) return 0;
  const slot = await takeCallSlot(deps.db, { workerId: deps.workerId, leaseSeconds: deps.config.workLeaseSeconds });
  if (!slot.taken) return { worked: 0, idleMs: Math.max(5, slot.waitMs) };
  const asked = { provider: false };
  try {
    const a = await claimNextCall(deps.db, { now: deps.clock.now(), leaseSeconds: deps.config.workLeaseSeconds, workerId: deps.workerId });
    if (!a) return 0;
    await dial(deps, a, log.child({ attemptId: a.id, ticketId: a.ticket_id, kind: a.kind, channel: 'voice' }), metrics, asked).catch((err: unknown) => {
      // The attempt stays dispatching; after its lease the attempts loop ends it as unknown (never placed twice).
      log.error({ err, attemptId: a.id, ticketId: a.ticket_id }, 'call.error');
    });
    return 1;
  } finally {
    await releaseCallSlot(deps.db, slot.slot, deps.workerId, asked.provider);
  }
}

async function dial(deps: NotifierDeps, a: Claimed<ContactAttempt>, log: Logger, metrics: NotifierMetrics, asked: { provider: boolean }) {
  const queuedAt = a.due_at;
  const view = await messageView(deps.db, a.ticket_id, '', { now: deps.clock.now(), resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds });
  if (!view || !callStillWanted(a.kind, view.walking)) {
    await markAttemptCanceled(deps.db, a.id, deps.clock.now());
    log.info('call.skipped.walk_stopped');
    return;
  }
  if (await digested(deps, a)) {
    const digestId = await holdForDigest(deps.db, a, deps.clock.now());
    log.info({ digestId }, 'call.held_for_digest');
    return;
  }
  const limit = deps.config.callsPerNumberPerHour;
  const reserved = await reserveNumber(deps.db, a.id, a.address, limit, deps.clock.now());
  if (!reserved.ok) {
    const detail = `${a.address} was called ${reserved.inLastHour} times in the last hour (CALLS_PER_NUMBER_PER_HOUR is ${limit}); ${a.contact_name} gets an email instead`;
    log.warn({ callsInLastHour: reserved.inLastHour, limit }, 'call.rate_limited');
    return finishCall(deps, a, log, metrics, 'rate-limited', detail, detail);
  }
  const script = a.digest_id ? digestCallScript({ ...(await digestCallSummary(deps.db, a.digest_id)), name: a.contact_name }) : callScript(view, { name: a.contact_name, timezone: a.timezone });
  // The walk's clock (ring time, result timeout) starts now, when the call is placed, not when it was queued.
  const now = deps.clock.now();
  asked.provider = true;
  const result = await deps.voice.placeCall({ attemptId: a.id, to: a.address, script }, now);
  if (result.status === 'placed') {
    await markCallPlaced(deps.db, a.id, result.providerRef, result.resultDueAt, now);
    log.info({ providerRef: result.providerRef, queuedMs: now.getTime() - new Date(queuedAt).getTime(), digestId: a.digest_id }, 'call.placed');
    return;
  }
  return finishCall(deps, a, log, metrics, result.status, result.error);
}
