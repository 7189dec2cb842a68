import t from 'tap';
import { callCommandAction, callStillWanted, claimedCallAction, commandForAnsweredBy, isFinalCallStatus, isVoicemail, outcomeOfEndedCall } from './call.js';

t.test('a completed call counts as answered, never as reached', async (t) => {
  t.equal(outcomeOfEndedCall('completed', null), 'answered');
  t.equal(outcomeOfEndedCall('completed', 'human'), 'answered');
  t.equal(outcomeOfEndedCall('completed', 'unknown'), 'answered');
});

t.test('a completed call that a machine answered is a voicemail', async (t) => {
  for (const m of ['machine_end_beep', 'machine_end_silence', 'machine_end_other', 'machine_start']) t.equal(outcomeOfEndedCall('completed', m), 'voicemail', m);
});

t.test('a fax is a failed attempt', async (t) => {
  t.equal(outcomeOfEndedCall('completed', 'fax'), 'failed');
});

t.test('busy, no-answer, failed and canceled keep their own outcome', async (t) => {
  for (const s of ['busy', 'no-answer', 'failed', 'canceled'] as const) t.equal(outcomeOfEndedCall(s, null), s);
});

t.test('only the final statuses are final', async (t) => {
  for (const s of ['completed', 'busy', 'no-answer', 'failed', 'canceled']) t.ok(isFinalCallStatus(s), s);
  for (const s of ['queued', 'initiated', 'ringing', 'in-progress', 'answered', '']) t.notOk(isFinalCallStatus(s), s);
});

t.test('the voicemail message plays only once the greeting ended', async (t) => {
  t.ok(isVoicemail('machine_end_beep'));
  t.ok(isVoicemail('machine_end_other'));
  t.notOk(isVoicemail('machine_start'));
  t.notOk(isVoicemail('human'));
  t.notOk(isVoicemail('fax'));
});

t.test('a claimed call: never placed again after a crash mid-dispatch, looked up when overdue, placed only while wanted', async (t) => {
  t.equal(claimedCallAction('dispatching'), 'end_unknown');
  t.equal(claimedCallAction('placed'), 'look_up');
  t.equal(claimedCallAction('pending'), 'place');
  t.equal(callStillWanted('call', true), true);
  t.equal(callStillWanted('call', false), false, 'the walk stopped before the call was placed');
  t.equal(callStillWanted('tam_call', false), true, "the TAM's call does not depend on the walk");
  t.equal(callStillWanted('tam_call', null), false, 'the ticket is gone');
});

t.test('a command to a call: nothing once it ended, wait for its SID while it is being placed', async (t) => {
  t.equal(callCommandAction('done', 'CA1'), 'nothing');
  t.equal(callCommandAction('canceled', null), 'nothing');
  t.equal(callCommandAction('dispatching', null), 'wait');
  t.equal(callCommandAction('dispatching', 'CA1'), 'perform');
  t.equal(callCommandAction('placed', 'CA1'), 'perform');
});

t.test('the answering-machine result decides the command: voicemail after a greeting, hang up on a fax', async (t) => {
  t.equal(commandForAnsweredBy('machine_end_beep'), 'voicemail');
  t.equal(commandForAnsweredBy('machine_end_silence'), 'voicemail');
  t.equal(commandForAnsweredBy('fax'), 'hangup');
  t.equal(commandForAnsweredBy('human'), null);
  t.equal(commandForAnsweredBy('machine_start'), null);
});
