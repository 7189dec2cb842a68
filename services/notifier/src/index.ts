// The notifier role: claims due contact attempts and performs them through the voice and email
// channels, then records the outcome (which moves the walk on). Rows, not memory, hold the walk:
// any notifier may die at any point and another takes over from the rows.
import type { Config } from '@abuse-desk/config';
import { callScript, renderEmail } from '@abuse-desk/channels';
import type { EmailChannel, EmailKind, VoiceChannel } from '@abuse-desk/channels';
import { claimCallCommands, claimDue, issueResolutionToken, markAttemptCanceled, markCallPlaced, markEmailFailed, markEmailSent, messageView, pollLoop, recordCallOutcome } from '@abuse-desk/db';
import type { Claimed, ContactAttempt, Db } from '@abuse-desk/db';
import { callStillWanted, claimedCallAction } from '@abuse-desk/domain';
import type { CallOutcome } from '@abuse-desk/domain';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { performCallCommand } from './call-commands.js';
import type { Registry } from 'prom-client';

export interface NotifierDeps {
  db: Db;
  config: Pick<Config, 'publicBaseUrl' | 'resolutionTimeoutSeconds' | 'workLeaseSeconds' | 'enforcementDestinations'>;
  logger: Logger;
  clock: { now(): Date };
  email: EmailChannel;
  voice: VoiceChannel;
  registry: Registry;
  workerId: string;
  /** Poll interval when idle (ms). */
  idleMs?: number;
}

const BATCH = 20;

export function startNotifier(deps: NotifierDeps) {
  const log = deps.logger.child({ role: 'notifier' });
  const attempts = new Counter({ name: 'abuse_desk_contact_attempts_total', help: 'Contact attempts finished, by channel, kind and outcome', labelNames: ['channel', 'kind', 'outcome'], registers: [deps.registry] });

  const commands = new Counter({ name: 'abuse_desk_call_commands_total', help: 'Commands to live calls (cancel, voicemail, hang-up) carried out, by command and result', labelNames: ['command', 'result'], registers: [deps.registry] });

  const claimOptions = () => ({ now: deps.clock.now(), limit: BATCH, leaseSeconds: deps.config.workLeaseSeconds, workerId: deps.workerId });
  const attemptsTick = async () => {
    const claimed = await claimDue(deps.db, 'contact_attempts', claimOptions());
    await Promise.all(
      claimed.map((a) =>
        perform(deps, a, log, (outcome) => attempts.inc({ channel: a.channel, kind: a.kind, outcome })).catch((err: unknown) => {
          // The lease runs out and the attempt is claimed again; log with context and go on.
          log.error({ err, attemptId: a.id, ticketId: a.ticket_id }, 'attempt.error');
        }),
      ),
    );
    return claimed.length;
  };
  // Commands to live calls run in their own loop: a voicemail must play right after the greeting and a
  // cancel stop the ringing, never waiting behind a slow SMTP server or a call being placed.
  const commandsTick = async () => {
    const claimed = await claimCallCommands(deps.db, claimOptions());
    await Promise.all(
      claimed.map((c) =>
        performCallCommand(deps, c, log, (result) => commands.inc({ command: c.command, result })).catch((err: unknown) => {
          log.error({ err, callCommandId: c.id, attemptId: c.attempt_id }, 'call_command.error');
        }),
      ),
    );
    return claimed.length;
  };
  const onError = (err: unknown) => log.error({ err }, 'notifier.tick.failed');
  const attemptsLoop = pollLoop({ name: 'notifier', idleMs: deps.idleMs ?? 500, tick: attemptsTick, onError });
  const commandsLoop = pollLoop({ name: 'notifier.call_commands', idleMs: deps.idleMs ?? 500, tick: commandsTick, onError });
  const tick = async () => (await commandsTick()) + (await attemptsTick());
  const nudge = () => {
    commandsLoop.nudge();
    attemptsLoop.nudge();
  };
  const stop = async () => {
    await Promise.all([commandsLoop.stop(), attemptsLoop.stop()]);
  };
  log.info({ email: deps.email.name, voice: deps.voice.name }, 'notifier.started');
  return { tick, nudge, stop };
}

async function perform(deps: NotifierDeps, a: Claimed<ContactAttempt>, parent: Logger, count: (outcome: string) => void) {
  const log = parent.child({ attemptId: a.id, ticketId: a.ticket_id, kind: a.kind, channel: a.channel });
  const now = deps.clock.now();
  const ctx = { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds, actor: 'system:notifier', destinations: deps.config.enforcementDestinations };
  const finishCall = async (outcome: CallOutcome, error: string | null) => {
    const r = await deps.db.transaction().execute((trx) => recordCallOutcome(trx, a.id, outcome, { ...ctx, error }));
    if (r.applied) count(outcome);
    log.info({ outcome, error }, 'call.ended');
  };

  if (a.channel === 'voice') {
    const action = claimedCallAction(a.previous_status);
    if (action === 'end_unknown') return finishCall('unknown', 'the notifier stopped while placing this call; it is not placed again');
    if (action === 'look_up') return finishCall(await deps.voice.overdueOutcome(a.provider_ref ?? ''), null);
    const view = await messageView(deps.db, a.ticket_id, '', { now, resolutionTimeoutSeconds: deps.config.resolutionTimeoutSeconds });
    if (!view || !callStillWanted(a.kind, view.walking)) {
      await markAttemptCanceled(deps.db, a.id, now);
      log.info('call.skipped.walk_stopped');
      return;
    }
    const result = await deps.voice.placeCall({ attemptId: a.id, to: a.address, script: callScript(view, { name: a.contact_name, timezone: a.timezone }) }, now);
    if (result.status === 'placed') {
      await markCallPlaced(deps.db, a.id, result.providerRef, result.resultDueAt, now);
      log.info({ providerRef: result.providerRef }, 'call.placed');
      return;
    }
    return finishCall(result.status, result.error);
  }

  if (a.previous_status === 'dispatching') log.warn('email.resend_after_crash');
  const token = await issueResolutionToken(deps.db, a.ticket_id, now);
  const view = await messageView(deps.db, a.ticket_id, `${deps.config.publicBaseUrl}/resolve/${token}`);
  if (!view) throw new Error(`ticket ${a.ticket_id} of attempt ${a.id} not found`);
  const rendered = renderEmail(a.kind as EmailKind, view, { name: a.contact_name, timezone: a.timezone });
  try {
    const sent = await deps.email.send({ to: [a.address], ...rendered, messageId: `<${a.id}@abuse-desk>` });
    await markEmailSent(deps.db, a.id, sent.providerRef, deps.clock.now());
    count('sent');
    log.info('email.sent');
  } catch (err) {
    const next = await markEmailFailed(deps.db, a.id, a.tries, err instanceof Error ? err.message : String(err), deps.clock.now());
    if (next === 'failed') count('failed');
    log.warn({ err, tries: a.tries, next }, 'email.failed');
  }
}
