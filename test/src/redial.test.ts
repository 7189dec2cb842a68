// Redial (issue 16) end to end with the Twilio stand-in: a tenant whose policy says callAttempts 2 has an
// unanswered contact called twice, redialAfterSeconds apart, before the follow-up email and the next
// contact; both calls are on the ticket's timeline.
import t from 'tap';
import { ALICE, BOB, world } from './twilio-world.js';

t.test('a contact with callAttempts: 2 is called twice, redialAfterSeconds apart, before the walk moves on', async (t) => {
  const w = await world(t, 'redial', [ALICE, BOB], {}, { engine: 'postgres', processes: 'one' }, async (_standin, api, tenant) => {
    const set = await api('PUT', `/v1/tenants/${tenant}/policy`, { policy: { callAttempts: 2, redialAfterSeconds: 5 }, reason: 'on-call staff miss the first ring' });
    t.equal(set.status, 200, 'the override is accepted');
  });
  const status = (id: string, sid: string, s: string, seq: number) => w.callback('status', id, { CallSid: sid, CallStatus: s, SequenceNumber: String(seq) });
  const first = await w.callTo(ALICE.phone);
  await status(first.attemptId, first.sid, 'ringing', 1);
  await status(first.attemptId, first.sid, 'no-answer', 3);
  const firstEndedAt = Date.now();

  const second = await w.callTo(ALICE.phone, 2);
  t.ok(Date.now() - firstEndedAt >= 4_500, `called again after redialAfterSeconds (${Date.now() - firstEndedAt} ms)`);
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 0, 'Bob is not called yet');
  t.notOk(w.sink.messages.some((m) => m.envelopeTo.includes(ALICE.email) && /ABU-/.test(m.subject ?? '')), 'no follow-up to Alice yet');
  const between = await w.ticket();
  t.equal(between.state, 'notifying');
  t.ok(between.events.some((e: any) => e.type === 'call.redial' && /call 2 of 2 in 5 s/.test(e.reason)), 'the redial is on the timeline');

  await status(second.attemptId, second.sid, 'ringing', 1);
  await status(second.attemptId, second.sid, 'busy', 3);
  await w.callTo(BOB.phone);
  await w.sink.waitFor((m) => m.envelopeTo.includes(ALICE.email) && /ABU-/.test(m.subject ?? ''), { message: 'no follow-up to Alice after her second call' } as never);
  const tk = await w.ticket();
  const aliceCalls = tk.attempts.filter((a: any) => a.kind === 'call' && a.contactName === ALICE.name);
  t.same(aliceCalls.map((a: any) => a.outcome).sort(), ['busy', 'no-answer'], 'both calls to Alice are on the timeline with their outcomes');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === ALICE.phone).length, 2, 'Alice was called exactly twice');
  t.equal(w.sink.messages.filter((m) => m.envelopeTo.includes(ALICE.email) && /ABU-/.test(m.subject ?? '')).length, 1, 'one follow-up to Alice');
});
