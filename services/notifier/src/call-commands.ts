// Carries out a claimed command to a live call: cancel it (someone else acknowledged), play the voicemail
// (a machine answered), hang up (a fax). A call still being placed has no SID yet: the command waits for
// it with backoff. A call that already ended needs nothing.
import { callCommandAction } from '@abuse-desk/domain';
import { voicemailScript } from '@abuse-desk/channels';
import { markCallCommandDone, messageView, retryCallCommand } from '@abuse-desk/db';
import type { ClaimedCallCommand } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { NotifierDeps } from './index.js';

export async function performCallCommand(deps: NotifierDeps, c: ClaimedCallCommand, parent: Logger, count: (result: string) => void) {
  const log = parent.child({ callCommandId: c.id, command: c.command, attemptId: c.attempt_id, ticketId: c.ticket_id });
  const now = deps.clock.now();
  const a = c.attempt;
  const action = callCommandAction(a.status, a.provider_ref);
  if (action === 'nothing') {
    await markCallCommandDone(deps.db, c.id, deps.workerId, now, 'the call had already ended');
    count('not_needed');
    log.info('call_command.not_needed');
    return;
  }
  try {
    if (action === 'wait') throw new Error('the call has no provider SID yet (still being placed)');
    const sid = a.provider_ref!;
    if (c.command === 'voicemail') {
      const view = await messageView(deps.db, a.ticket_id, '');
      if (!view) throw new Error(`ticket ${a.ticket_id} not found`);
      await deps.voice.playAndHangUp(sid, voicemailScript(view, { name: a.contact_name, timezone: a.timezone }));
    } else {
      await deps.voice.endCall(sid);
    }
    await markCallCommandDone(deps.db, c.id, deps.workerId, deps.clock.now());
    count('done');
    log.info({ providerRef: sid }, 'call_command.done');
  } catch (err) {
    const next = await retryCallCommand(deps.db, c.id, deps.workerId, c.tries, err instanceof Error ? err.message : String(err), deps.clock.now());
    if (next === 'failed') count('failed');
    log.warn({ err, tries: c.tries, next }, 'call_command.failed');
  }
}
