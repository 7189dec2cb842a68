// Escalation calls through Twilio (issue #4), end to end: the real twilio client against a local stand-in
// of Twilio's REST API that checks every request against Twilio's own OpenAPI description, and callbacks
// signed exactly as Twilio signs them.
import { signedPost, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { ALICE, BOB, FROM, TAM_EMAIL, TAM_PHONE, attemptOf, world, type World } from './twilio-world.js';

t.test('calls carry the parameters of SPEC §8 and match Twilio’s OpenAPI description; a callback with a bad or missing signature is refused and changes nothing', async (t) => {
  const w = await world(t, 'twparams', [ALICE, BOB, TAM_EMAIL]);
  const alice = await w.callTo(ALICE.phone);
  const p = alice.params;
  t.equal(p['To'], ALICE.phone);
  t.equal(p['From'], FROM);
  t.match(String(p['Url']), `${w.svc.baseUrl}/webhooks/twilio/voice?a=`);
  t.match(String(p['FallbackUrl']), '/webhooks/twilio/fallback?a=');
  t.match(String(p['StatusCallback']), '/webhooks/twilio/status?a=');
  t.same(p['StatusCallbackEvent'], ['initiated', 'ringing', 'answered', 'completed'], 'status events sent as repeated parameters');
  t.equal(p['MachineDetection'], 'DetectMessageEnd');
  t.equal(p['AsyncAmd'], 'true');
  t.match(String(p['AsyncAmdStatusCallback']), '/webhooks/twilio/amd?a=');
  t.equal(p['Timeout'], '30');
  t.ok(Number(p['TimeLimit']) > 0, 'a time limit caps the cost');
  const creates = w.standin.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Calls.json'));
  t.same(creates.flatMap((r) => r.specErrors), [], 'every create request matches the OpenAPI description');

  const voice = await w.callback('voice', alice.attemptId, { CallSid: alice.sid, CallStatus: 'in-progress' });
  t.equal(voice.status, 200);
  t.match(voice.contentType, /xml/);
  t.match(voice.body, /<Gather[^>]*numDigits="1"/);
  t.match(voice.body, /A B U, 0 0 0 0 0 1/, 'the ticket number is spoken digit by digit');
  t.match(voice.body, /Press 1 to acknowledge/);
  t.match(voice.body, /UTC/);

  const before = await w.ticket();
  const forged = await signedPost(`${w.svc.baseUrl}/webhooks/twilio/gather?a=${alice.attemptId}`, { CallSid: alice.sid, Digits: '1' }, 'not-the-auth-token');
  t.equal(forged.status, 403, 'a bad signature is refused');
  const unsigned = await fetch(`${w.svc.baseUrl}/webhooks/twilio/status?a=${alice.attemptId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `CallSid=${alice.sid}&CallStatus=completed` });
  t.equal(unsigned.status, 403, 'a missing signature is refused');
  const after = await w.ticket();
  t.equal(after.state, 'notifying', 'no state changed');
  t.same(attemptOf(after, alice.attemptId).outcome, attemptOf(before, alice.attemptId).outcome);
});

t.test('no answer → follow-up email → next contact; callbacks repeated and out of order are harmless; a voicemail box gets the voicemail message', async (t) => {
  const w = await world(t, 'twwalk', [ALICE, BOB, TAM_EMAIL]);
  const alice = await w.callTo(ALICE.phone);
  const status = (id: string, sid: string, s: string, seq: number) => w.callback('status', id, { CallSid: sid, CallStatus: s, SequenceNumber: String(seq) });
  t.equal((await status(alice.attemptId, alice.sid, 'initiated', 0)).status, 204);
  await status(alice.attemptId, alice.sid, 'ringing', 1);
  await status(alice.attemptId, alice.sid, 'no-answer', 3);
  await status(alice.attemptId, alice.sid, 'ringing', 2); // late, older
  await status(alice.attemptId, alice.sid, 'no-answer', 3); // repeated
  const bob = await w.callTo(BOB.phone);
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 1, 'Bob is called once');
  t.equal(attemptOf(await w.ticket(), alice.attemptId).outcome, 'no-answer');
  await w.sink.waitFor((m) => m.envelopeTo.includes(ALICE.email) && /ABU-/.test(m.subject ?? ''), { message: 'no follow-up to Alice' } as never);

  // Bob's voicemail answers: the async AMD result replaces the call's message with the voicemail.
  await status(bob.attemptId, bob.sid, 'in-progress', 2);
  t.equal((await w.callback('amd', bob.attemptId, { CallSid: bob.sid, AnsweredBy: 'machine_end_beep' })).status, 204);
  const update = await waitUntil(() => w.standin.calls.get(bob.sid)!.updates.find((u) => u['Twiml']), { message: 'the voicemail TwiML was not sent' });
  t.match(update['Twiml'], /A B U, 0 0 0 0 0 1/);
  t.match(update['Twiml'], /email/i);
  t.match(update['Twiml'], /<Hangup/);
  await status(bob.attemptId, bob.sid, 'completed', 3);
  // A late AMD result after the final state changes nothing.
  await w.callback('amd', bob.attemptId, { CallSid: bob.sid, AnsweredBy: 'human' });
  const tk = await waitUntil(async () => {
    const x = await w.ticket();
    return x.state === 'awaiting_response' ? x : null;
  }, { message: 'the walk did not end' });
  t.equal(attemptOf(tk, bob.attemptId).outcome, 'voicemail');
  t.same(tk.attempts.filter((a: any) => a.kind === 'followup').map((a: any) => a.contactName).sort(), ['Alice Admin', 'Bob Backup']);
  t.equal(w.standin.calls.size, 2, 'no call was placed twice');
  t.same(w.standin.requests.flatMap((r) => r.specErrors), [], 'every request matched the OpenAPI description');
});

t.test('a person who presses 1 engages the ticket, the other live calls are cancelled, and everyone is told who acknowledged', async (t) => {
  const w = await world(t, 'twack', [ALICE, BOB, TAM_PHONE]);
  const alice = await w.callTo(ALICE.phone);
  const tom = await w.callTo(TAM_PHONE.phone);
  t.ok(tom, 'the TAM who prefers the phone is called at once, in parallel with the first contact');
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'in-progress', SequenceNumber: '2' });
  await w.callback('status', tom.attemptId, { CallSid: tom.sid, CallStatus: 'ringing', SequenceNumber: '1' });
  w.standin.calls.get(alice.sid)!.status = 'in-progress';
  w.standin.calls.get(tom.sid)!.status = 'ringing';

  const wrongKey = await w.callback('gather', alice.attemptId, { CallSid: alice.sid, Digits: '5' });
  t.match(wrongKey.body, /Only the digit 1/);
  t.equal((await w.ticket()).state, 'notifying', 'another digit reaches nobody');

  const pressed = await w.callback('gather', alice.attemptId, { CallSid: alice.sid, Digits: '1' });
  t.equal(pressed.status, 200);
  t.match(pressed.body, /acknowledged ticket A B U/);
  t.match(pressed.body, /will be disabled at/);
  const tk = await w.ticket();
  t.equal(tk.state, 'engaged');
  t.ok(tk.deadlineAt);
  t.equal(attemptOf(tk, alice.attemptId).outcome, 'acknowledged');
  const cancel = await waitUntil(() => w.standin.calls.get(tom.sid)!.updates.find((u) => u['Status'] === 'canceled'), { message: 'the TAM call was not cancelled' });
  t.ok(cancel, 'the still-ringing TAM call is cancelled through the API');
  await w.sink.waitFor((m) => /acknowledged/i.test(m.subject ?? ''), { count: 3, message: 'not everyone was told who acknowledged' } as never);
  const told = w.sink.messages.filter((m) => /acknowledged/i.test(m.subject ?? '')).flatMap((m) => m.envelopeTo).sort();
  t.same(told, [ALICE.email, BOB.email, TAM_PHONE.email].sort());
  t.match(w.sink.messages.find((m) => /acknowledged/i.test(m.subject ?? ''))!.text ?? '', /Alice Admin acknowledged/);
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 0, 'Bob is never called');
  // A second press (or a duplicate gather) changes nothing.
  const again = await w.callback('gather', alice.attemptId, { CallSid: alice.sid, Digits: '1' });
  t.equal(again.status, 200);
  t.equal((await w.ticket()).events.filter((e: any) => e.type === 'contact_reached').length, 1);
});

t.test('a person who hangs up without pressing counts as answered, not reached: follow-up and the next contact', async (t) => {
  const w = await world(t, 'twhangup', [ALICE, BOB]);
  const alice = await w.callTo(ALICE.phone);
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'in-progress', SequenceNumber: '2' });
  await w.callback('amd', alice.attemptId, { CallSid: alice.sid, AnsweredBy: 'human' });
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'completed', SequenceNumber: '3' });
  await w.callTo(BOB.phone);
  const tk = await w.ticket();
  t.equal(tk.state, 'notifying');
  t.equal(attemptOf(tk, alice.attemptId).outcome, 'answered');
  await waitUntil(async () => attemptOf(await w.ticket(), (await w.ticket()).attempts.find((a: any) => a.kind === 'followup')?.id ?? '')?.outcome === 'sent', { message: 'no follow-up' });
});

/** The list requests that looked for a call to `phone` (the lookup after an uncertain create). */
const lookupsFor = (w: World, phone: string) => w.standin.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/Calls.json') && r.params['To'] === phone);
const createsFor = (w: World, phone: string) => w.standin.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Calls.json') && r.params['To'] === phone);

t.test('Twilio answering 500 on a create it carried out: the call is looked up and recorded as placed, never placed twice', async (t) => {
  const w = await world(t, 'twfail', [ALICE, BOB], {}, { engine: 'pglite', processes: 'one' });
  // The first create (Alice) already happened; make Bob's fail after Twilio placed it.
  await w.callTo(ALICE.phone);
  w.standin.failNext('create', 'http500');
  const alice = await w.callTo(ALICE.phone);
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'no-answer', SequenceNumber: '3' });
  const bob = await waitUntil(() => [...w.standin.calls.values()].find((c) => c.to === BOB.phone), { message: 'Bob was not called' });
  const bobAttempt = await waitUntil(async () => (await w.ticket()).attempts.find((a: any) => a.kind === 'call' && a.contactName === 'Bob Backup' && a.status === 'placed'), { message: 'Bob’s call was not reconciled' });
  t.ok(bobAttempt, 'after the 500 the call was found by To and recorded as placed');
  t.ok(lookupsFor(w, BOB.phone).length >= 1, 'Twilio was asked for calls to Bob');
  t.equal(createsFor(w, BOB.phone).length, 1, 'the create was not sent again');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 1, 'and never placed twice');
  t.equal(bob.status, 'queued');
});

t.test('a create refused with 400 (invalid number) fails that call attempt without a lookup or a retry, and the walk goes on by email', async (t) => {
  const w = await world(t, 'twrefused', [ALICE, BOB], {}, { engine: 'postgres', processes: 'one' });
  const alice = await w.callTo(ALICE.phone);
  w.standin.failNext('create', 'http400');
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'busy', SequenceNumber: '3' });
  const tk = await waitUntil(async () => {
    const x = await w.ticket();
    return x.state === 'awaiting_response' ? x : null;
  }, { message: 'the walk did not go on after the 400' });
  const bobCall = tk.attempts.find((a: any) => a.kind === 'call' && a.contactName === 'Bob Backup');
  t.equal(bobCall.outcome, 'failed');
  t.match(bobCall.lastError, /21211/);
  t.equal(createsFor(w, BOB.phone).length, 1, 'the refused create was not retried');
  t.equal(lookupsFor(w, BOB.phone).length, 0, 'a refusal is definite: nothing to look up');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 0, 'Bob was never called');
  t.equal(attemptOf(tk, alice.attemptId).outcome, 'busy');
  t.same(tk.attempts.filter((a: any) => a.kind === 'followup').map((a: any) => a.contactName).sort(), ['Alice Admin', 'Bob Backup']);
});

t.test('a notifier killed between asking Twilio and recording the call SID never calls that contact again for that step', async (t) => {
  const w = await world(t, 'twkill', [ALICE, BOB], {}, { engine: 'postgres', processes: 'one' });
  const alice = await w.callTo(ALICE.phone);
  // Bob's create will hang (Twilio took it, no answer comes back): kill the process meanwhile.
  w.standin.failNext('create', 'timeout');
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'no-answer', SequenceNumber: '3' });
  await waitUntil(() => [...w.standin.calls.values()].some((c) => c.to === BOB.phone), { message: 'Bob’s create never arrived' });
  await w.svc.kill();
  await w.svc.start();
  const tk = await waitUntil(async () => {
    const x = await w.ticket();
    const bob = x.attempts.find((a: any) => a.kind === 'call' && a.contactName === 'Bob Backup');
    return bob && bob.status === 'done' ? x : null;
  }, { timeoutMs: 30_000, message: 'the interrupted call attempt was never closed' });
  const bob = tk.attempts.find((a: any) => a.kind === 'call' && a.contactName === 'Bob Backup');
  t.equal(bob.outcome, 'unknown', 'recorded as unknown');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 1, 'Bob was not called a second time');
  await waitUntil(async () => (await w.ticket()).attempts.some((a: any) => a.kind === 'followup' && a.contactName === 'Bob Backup' && a.outcome === 'sent'), { message: 'no follow-up email to Bob' });
});

t.test('a call with no final status after CALL_RESULT_TIMEOUT_SECONDS is looked up, or ended and closed as lost', async (t) => {
  const w = await world(t, 'twlost', [ALICE, BOB], { CALL_RESULT_TIMEOUT_SECONDS: '2' });
  const alice = await w.callTo(ALICE.phone);
  // Twilio knows Alice's call ended unanswered, but its callback never reached us.
  w.standin.calls.get(alice.sid)!.status = 'no-answer';
  const bob = await w.callTo(BOB.phone);
  t.equal(attemptOf(await w.ticket(), alice.attemptId).outcome, 'no-answer', 'the missed callback was made up by a lookup');
  // Bob's call never gets anywhere: it is cancelled and closed as lost.
  const tk = await waitUntil(async () => {
    const x = await w.ticket();
    return x.state === 'awaiting_response' ? x : null;
  }, { message: 'the lost call did not end the walk' });
  t.equal(attemptOf(tk, bob.attemptId).outcome, 'lost');
  t.ok(w.standin.calls.get(bob.sid)!.updates.some((u) => u['Status'] === 'canceled'), 'the lost call was cancelled at Twilio');
});

t.test('a create that times out (Twilio took it, no answer came back) is looked up and recorded as placed, not placed again', async (t) => {
  const w = await world(t, 'twslow', [ALICE, BOB], {}, { engine: 'postgres', processes: 'one' }, (standin) => standin.failNext('create', 'timeout'));
  const attempt = await waitUntil(async () => (await w.ticket()).attempts.find((a: any) => a.kind === 'call' && a.status === 'placed'), { timeoutMs: 30_000, message: 'the timed-out call was not reconciled' });
  const calls = [...w.standin.calls.values()].filter((c) => c.to === ALICE.phone);
  t.equal(calls.length, 1, 'Alice was called once');
  t.ok(lookupsFor(w, ALICE.phone).length >= 1, 'Twilio was asked for calls to Alice');
  t.equal(createsFor(w, ALICE.phone).length, 1, 'the create was not sent again');
  t.equal(attempt.contactName, 'Alice Admin');
  const alice = await w.callTo(ALICE.phone);
  await w.callback('status', alice.attemptId, { CallSid: alice.sid, CallStatus: 'no-answer', SequenceNumber: '3' });
  await w.callTo(BOB.phone);
  t.equal(attemptOf(await w.ticket(), alice.attemptId).outcome, 'no-answer', 'its callbacks still land on the attempt');
});
