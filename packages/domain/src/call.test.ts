import t from 'tap';
import { isFinalCallStatus, isVoicemail, outcomeOfEndedCall } from './call.js';

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
