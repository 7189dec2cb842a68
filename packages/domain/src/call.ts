// What a voice provider's call status means for the walk (SPEC §8): only the digit 1 reaches a person;
// "answered" and "completed" do not (a voicemail box answers too).
import type { CallOutcome } from './walk.js';

export const FINAL_CALL_STATUSES = ['completed', 'busy', 'no-answer', 'failed', 'canceled'] as const;
export type FinalCallStatus = (typeof FINAL_CALL_STATUSES)[number];

export const isFinalCallStatus = (s: string): s is FinalCallStatus => (FINAL_CALL_STATUSES as readonly string[]).includes(s);

/** The outcome of a call that ended without the digit 1. */
export function outcomeOfEndedCall(status: FinalCallStatus, answeredBy: string | null): CallOutcome {
  switch (status) {
    case 'completed':
      if (answeredBy?.startsWith('machine')) return 'voicemail';
      if (answeredBy === 'fax') return 'failed';
      return 'answered';
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no-answer';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'canceled';
  }
}

/** Whether an answering-machine result means the voicemail message should be played. */
export const isVoicemail = (answeredBy: string) => answeredBy.startsWith('machine_end');
