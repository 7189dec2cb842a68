// The notifier role: claims due contact attempts and performs them through the voice and email
// channels, then records the outcome (which moves the walk on). Rows, not memory, hold the walk:
// any notifier may die at any point and another takes over from the rows. Four loops:
// - attempts: emails and SMS, and calls whose result is overdue or whose notifier died while placing them;
// - dialer: calls waiting to be placed, one per call slot (TWILIO_CALLS_PER_SECOND across all notifiers);
// - digests: one message per DIGEST_MINUTES to an address shared by several tenants;
// - call commands: cancels, voicemails and hang-ups of live calls.
import type { Config } from '@abuse-desk/config';
import type { EmailChannel, SmsChannel, VoiceChannel } from '@abuse-desk/channels';
import { claimCallCommands, claimDue, ensureCallSlots, pollLoop } from '@abuse-desk/db';
import type { Db } from '@abuse-desk/db';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { performAttempt } from './attempt.js';
import { performCallCommand } from './call-commands.js';
import { dialTick } from './dialer.js';
import { digestTick } from './digests.js';

export { registerCallQueueMetrics } from './queue-metrics.js';

export interface NotifierDeps {
  db: Db;
  config: Pick<Config, 'publicBaseUrl' | 'resolutionTimeoutSeconds' | 'workLeaseSeconds' | 'enforcementDestinations' | 'callsPerSecond' | 'callsPerNumberPerHour' | 'smsPerNumberPerHour' | 'digestMinutes'>;
  logger: Logger;
  clock: { now(): Date };
  email: EmailChannel;
  voice: VoiceChannel;
  sms: SmsChannel;
  registry: Registry;
  workerId: string;
  /** Poll interval when idle (ms). */
  idleMs?: number;
}

export interface NotifierMetrics {
  attempts: Counter<'channel' | 'kind' | 'outcome'>;
  digests: Counter<'channel' | 'result'>;
}

const BATCH = 20;
/** Dialers per process: enough to keep every slot busy while a create is in flight, not more. */
const MAX_DIALERS = 8;

export function startNotifier(deps: NotifierDeps) {
  const log = deps.logger.child({ role: 'notifier' });
  const metrics: NotifierMetrics = {
    attempts: new Counter({ name: 'abuse_desk_contact_attempts_total', help: 'Contact attempts finished, by channel, kind and outcome', labelNames: ['channel', 'kind', 'outcome'], registers: [deps.registry] }),
    digests: new Counter({ name: 'abuse_desk_digests_total', help: 'Digests to contacts shared by several tenants, by channel and result (sent, queued for a call, failed, empty)', labelNames: ['channel', 'result'], registers: [deps.registry] }),
  };
  const commands = new Counter({ name: 'abuse_desk_call_commands_total', help: 'Commands to live calls (cancel, voicemail, hang-up) carried out, by command and result', labelNames: ['command', 'result'], registers: [deps.registry] });

  const claimOptions = () => ({ now: deps.clock.now(), limit: BATCH, leaseSeconds: deps.config.workLeaseSeconds, workerId: deps.workerId });
  const attemptsTick = async () => {
    const claimed = await claimDue(deps.db, 'contact_attempts', claimOptions());
    await Promise.all(
      claimed.map((a) =>
        performAttempt(deps, a, log, metrics).catch((err: unknown) => {
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
  const idleMs = deps.idleMs ?? 500;
  // The slot rows follow this process's TWILIO_CALLS_PER_SECOND, made before its first call (again after a failure).
  let slots: Promise<void> | null = null;
  const dial = async () => {
    slots ??= ensureCallSlots(deps.db, deps.config.callsPerSecond).catch((err: unknown) => {
      slots = null;
      throw err;
    });
    await slots;
    return dialTick(deps, log, metrics);
  };
  const loops = [
    pollLoop({ name: 'notifier.call_commands', idleMs, tick: commandsTick, onError }),
    pollLoop({ name: 'notifier', idleMs, tick: attemptsTick, onError }),
    ...Array.from({ length: Math.min(deps.config.callsPerSecond, MAX_DIALERS) }, (_, i) => pollLoop({ name: `notifier.dialer.${i}`, idleMs, tick: dial, onError })),
    // Also with DIGEST_MINUTES=0 (nothing new is held): digests still collecting when it was set go out at once.
    pollLoop({ name: 'notifier.digests', idleMs, tick: () => digestTick(deps, log, metrics, claimOptions(), nudge), onError }),
  ];
  function nudge() {
    for (const l of loops) l.nudge();
  }
  const stop = async () => {
    await Promise.all(loops.map((l) => l.stop()));
  };
  log.info({ email: deps.email.name, voice: deps.voice.name, sms: deps.sms.name, callsPerSecond: deps.config.callsPerSecond, callsPerNumberPerHour: deps.config.callsPerNumberPerHour, smsPerNumberPerHour: deps.config.smsPerNumberPerHour, digestMinutes: deps.config.digestMinutes }, 'notifier.started');
  return { nudge, stop };
}
