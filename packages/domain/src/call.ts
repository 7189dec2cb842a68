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

/** What a live call needs after its answering-machine result: the voicemail after a greeting's end, a hang-up on a fax. */
export function commandForAnsweredBy(answeredBy: string): 'voicemail' | 'hangup' | null {
  if (isVoicemail(answeredBy)) return 'voicemail';
  if (answeredBy === 'fax') return 'hangup';
  return null;
}

/** A call attempt between asking the provider and its final status: the calls a command can still reach. */
export const LIVE_CALL_STATUSES = ['dispatching', 'placed'] as const;

/**
 * What a command to a call can do now, from the attempt's status: a finished call needs nothing, a call
 * being placed (no SID yet) must be waited for, a placed call can be told.
 */
export function callCommandAction(attemptStatus: string, providerRef: string | null): 'nothing' | 'wait' | 'perform' {
  if (!(LIVE_CALL_STATUSES as readonly string[]).includes(attemptStatus)) return 'nothing';
  return providerRef ? 'perform' : 'wait';
}

/**
 * What to do with a claimed call attempt, from the status it had before the claim (SPEC §8): one claimed
 * while `dispatching` belonged to a worker that died between asking the provider and recording its answer
 * — the call may exist, so it is never placed again (`unknown`, the walk goes on by email); one `placed`
 * is overdue — look it up; a `pending` one may be placed (see callStillWanted).
 */
export function claimedCallAction(previousStatus: string): 'end_unknown' | 'look_up' | 'place' {
  if (previousStatus === 'dispatching') return 'end_unknown';
  if (previousStatus === 'placed') return 'look_up';
  return 'place';
}

/** Whether a call is still wanted: a walk call only while the walk runs (a TAM's call regardless); none once the ticket is gone. */
export const callStillWanted = (kind: string, walking: boolean | null) => walking !== null && (kind !== 'call' || walking);
