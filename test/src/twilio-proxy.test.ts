// Twilio signs each callback over the URL it called: PUBLIC_BASE_URL, the address a proxy or load balancer
// publishes. Behind the proxy the request arrives with another Host (and scheme), so the webhook must check
// the signature over PUBLIC_BASE_URL + path and query, never over a URL built from the Host header.
import { signedPost } from '@abuse-desk/testkit';
import t from 'tap';
import { ALICE, BOB, attemptOf, world } from './twilio-world.js';

t.test('webhook signatures are checked over PUBLIC_BASE_URL, not over the Host header a proxy rewrites', async (t) => {
  // Twilio calls the public URL and signs over it; the proxy forwards to the service with its own Host.
  const PUBLIC = 'https://abuse-desk.example';
  const HOST = 'abuse-desk-internal:8080';
  const w = await world(t, 'twproxy', [ALICE, BOB], { PUBLIC_BASE_URL: PUBLIC });
  const alice = await w.callTo(ALICE.phone);
  t.match(String(alice.params['StatusCallback']), `${PUBLIC}/webhooks/twilio/status?a=`, 'Twilio is given the public URLs');
  const path = `/webhooks/twilio/status?a=${alice.attemptId}`;
  const noAnswer = { CallSid: alice.sid, CallStatus: 'no-answer', SequenceNumber: '3' };
  const post = (signedUrl: string) => signedPost(`${w.svc.baseUrl}${path}`, noAnswer, w.standin.authToken, { host: HOST, signedUrl });

  t.equal((await post(`http://${HOST}${path}`)).status, 403, 'signed over the URL the Host header names: refused');
  t.equal((await post(`${w.svc.baseUrl}${path}`)).status, 403, 'signed over the address the request reached: refused');
  const refused = await w.ticket();
  t.equal(refused.state, 'notifying', 'no state changed');
  t.equal(attemptOf(refused, alice.attemptId).outcome, null, 'the call attempt is still open');
  t.equal([...w.standin.calls.values()].filter((c) => c.to === BOB.phone).length, 0, 'the walk did not move on');

  t.equal((await post(`${PUBLIC}${path}`)).status, 204, 'signed over PUBLIC_BASE_URL, with another Host: accepted');
  t.equal(attemptOf(await w.ticket(), alice.attemptId).outcome, 'no-answer', 'and it counts');
  const bob = await w.callTo(BOB.phone);
  const voicePath = `/webhooks/twilio/voice?a=${bob.attemptId}`;
  const voice = await signedPost(`${w.svc.baseUrl}${voicePath}`, { CallSid: bob.sid, CallStatus: 'in-progress' }, w.standin.authToken, { host: HOST, signedUrl: `${PUBLIC}${voicePath}` });
  t.equal(voice.status, 200);
  t.match(voice.body, `action="${PUBLIC}/webhooks/twilio/gather?a=`, 'the TwiML sends the key press to the public URL, not to the Host');
});
