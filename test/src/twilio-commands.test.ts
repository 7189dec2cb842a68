// Commands to live calls are durable (issue #10): cancelling the other calls after a key press and playing
// the voicemail are rows claimed by the notifier, so a process SIGKILLed while carrying them out — the one
// that received the key press — still gets them done after a restart.
import { waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { ALICE, BOB, TAM_PHONE, attemptOf, world } from './twilio-world.js';

const updatesTo = (w: Awaited<ReturnType<typeof world>>, sid: string) => w.standin.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/Calls/${sid}.json`));

t.test('the cancel of the other live call survives a SIGKILL of the process that received the key press, mid-request', async (t) => {
  const w = await world(t, 'twcancelkill', [ALICE, BOB, TAM_PHONE], {}, { engine: 'postgres', processes: 'one' });
  const alice = await w.callTo(ALICE.phone);
  const tom = await w.callTo(TAM_PHONE.phone);
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'in-progress', SequenceNumber: '2' });
  await w.callback('status', tom.attemptId, { CallSid: tom.sid, CallStatus: 'ringing', SequenceNumber: '1' });
  w.standin.calls.get(alice.sid)!.status = 'in-progress';
  w.standin.calls.get(tom.sid)!.status = 'ringing';

  // The first request to cancel Tom's call never gets an answer (and does not reach "Twilio").
  w.standin.failNext('update', 'timeout');
  const pressed = await w.callback('gather', alice.attemptId, { CallSid: alice.sid, Digits: '1' });
  t.match(pressed.body, /acknowledged ticket/);
  await waitUntil(() => updatesTo(w, tom.sid).length >= 1, { message: 'the cancel of the TAM call was never attempted' });
  t.notOk(w.standin.calls.get(tom.sid)!.updates.some((u) => u['Status'] === 'canceled'), 'the first cancel is in flight, not applied');

  await w.svc.kill();
  t.equal(w.standin.calls.get(tom.sid)!.status, 'ringing', 'killed with the TAM call still ringing');
  await w.svc.start();

  const cancel = await waitUntil(() => w.standin.calls.get(tom.sid)!.updates.find((u) => u['Status'] === 'canceled'), { timeoutMs: 30_000, message: 'the TAM call was never cancelled after the restart' });
  t.ok(cancel, 'a survivor took the command over after its lease and cancelled the call');
  t.equal(w.standin.calls.get(tom.sid)!.updates.filter((u) => u['Status'] === 'canceled').length, 1, 'cancelled once');
  const tk = await w.ticket();
  t.equal(tk.state, 'engaged');
  t.equal(attemptOf(tk, alice.attemptId).outcome, 'acknowledged');
  t.equal(tk.events.filter((e: any) => e.type === 'contact_reached').length, 1, 'acknowledged once');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 0, 'the walk stopped: Bob is never called');
  t.same(w.standin.requests.flatMap((r) => r.specErrors), [], 'every request matched the OpenAPI description');
});

t.test('the voicemail is played even when the process that got the machine result dies before playing it', async (t) => {
  const w = await world(t, 'twvmkill', [ALICE, BOB], {}, { engine: 'postgres', processes: 'one' });
  const alice = await w.callTo(ALICE.phone);
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'in-progress', SequenceNumber: '2' });
  w.standin.calls.get(alice.sid)!.status = 'in-progress';
  w.standin.failNext('update', 'timeout');
  t.equal((await w.callback('amd', alice.attemptId, { CallSid: alice.sid, AnsweredBy: 'machine_end_beep' })).status, 204);
  await waitUntil(() => updatesTo(w, alice.sid).length >= 1, { message: 'the voicemail was never attempted' });
  await w.svc.kill();
  t.notOk(w.standin.calls.get(alice.sid)!.updates.some((u) => u['Twiml']), 'killed before the voicemail was played');
  await w.svc.start();
  const update = await waitUntil(() => w.standin.calls.get(alice.sid)!.updates.find((u) => u['Twiml']), { timeoutMs: 30_000, message: 'the voicemail was never played after the restart' });
  t.match(update['Twiml'], /<Hangup/);
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'completed', SequenceNumber: '3' });
  await w.callTo(BOB.phone);
  t.equal(attemptOf(await w.ticket(), alice.attemptId).outcome, 'voicemail');
});
