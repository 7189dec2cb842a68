// The console voice channel (SPEC §3): used when no Twilio credentials are set. It logs the call,
// and since nobody can press 1 on a log line, every call ends as no-answer after the ring time.
import type { CallOutcome } from '@abuse-desk/domain';
import type { Logger } from 'pino';
import type { CallRequest, PlaceCallResult, VoiceChannel } from '../types.js';

export interface ConsoleVoiceChannelOptions {
  logger: Logger;
  /** CALL_RING_SECONDS: when the notifier should ask for the outcome. */
  ringSeconds: number;
}

export function createConsoleVoiceChannel({ logger, ringSeconds }: ConsoleVoiceChannelOptions): VoiceChannel {
  return {
    name: 'console',
    async placeCall(call: CallRequest, now: Date): Promise<PlaceCallResult> {
      logger.info({ to: call.to, attemptId: call.attemptId, script: call.script }, 'voice.console.call');
      return { status: 'placed', providerRef: `console:${call.attemptId}`, resultDueAt: new Date(now.getTime() + ringSeconds * 1000) };
    },
    async overdueOutcome(): Promise<CallOutcome> {
      return 'no-answer';
    },
    async endCall(providerRef: string) {
      logger.info({ providerRef }, 'voice.console.end');
    },
    async playAndHangUp(providerRef: string, text: string) {
      logger.info({ providerRef, text }, 'voice.console.voicemail');
    },
  };
}
