// Acknowledge by link (issue 16), end to end with the Twilio stand-in, an SMTP sink and Chromium: the link in
// a contact's email is fetched like a mail scanner would (nothing changes), opened with and without
// JavaScript (a page and a button), and the button — a plain form POST — engages the ticket and cancels
// the call still ringing; everyone is told who acknowledged and how; the used link then says so.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { launchChromium, openPage } from './browser.js';
import { ADMIN_TOKEN, ROOT } from './harness.js';
import { ALICE, BOB, TAM_PHONE, world } from './twilio-world.js';

const SHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');

t.test('the acknowledgement link: a GET changes nothing, the button engages the ticket and cancels the ringing call', async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  // Alice has no phone: the walk emails her at once and calls Bob.
  const aliceByEmail = { ...ALICE, phone: undefined };
  const w = await world(t, 'ackLink', [aliceByEmail, BOB, TAM_PHONE]);
  const bob = await w.callTo(BOB.phone);
  await w.callback('status', bob.attemptId, { CallSid: bob.sid, CallStatus: 'ringing', SequenceNumber: '1' });
  w.standin.calls.get(bob.sid)!.status = 'ringing';

  const [mail] = await w.sink.waitFor((m) => m.envelopeTo.includes(ALICE.email) && /\/ack\//.test(m.text ?? ''), { message: 'Alice got no email with an acknowledgement link' } as never);
  const link = /(http:\/\/\S+\/ack\/[A-Za-z0-9_-]+)/.exec(mail!.text ?? '')![1]!;
  t.match(mail!.text, /or press 1 when we call/, 'the email says the other way to acknowledge');
  const before = await w.ticket();
  t.equal(before.state, 'notifying');

  for (let i = 0; i < 2; i++) t.equal((await fetch(link)).status, 200, 'a mail scanner fetches the link');
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(t, browser, 390);
  await page.goto(link);
  await page.getByRole('heading', { name: `Acknowledge ticket ${w.number}` }).waitFor();
  t.ok(await page.getByText('You are Alice Admin').isVisible(), 'the page names whose link it is');
  await page.screenshot({ path: path.join(SHOTS, 'acknowledge.png'), fullPage: true });
  const unchanged = await w.ticket();
  t.equal(unchanged.state, 'notifying', 'opening the link (scanner and browser) acknowledged nothing');
  t.equal(unchanged.events.length, before.events.length, 'and added no event');
  t.same(errors, [], 'no console errors');

  // The button works without JavaScript: a plain form POST.
  const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 900 } });
  t.teardown(() => noScript.close());
  const plain = await noScript.newPage();
  await plain.goto(link);
  await plain.getByRole('button', { name: `Acknowledge ${w.number}` }).click();
  await plain.getByRole('heading', { name: `Thank you — you acknowledged ${w.number}` }).waitFor();
  t.match(await plain.locator('main').textContent(), /fix is due by/, 'the page says by when the fix is due');

  const tk = await w.ticket();
  t.equal(tk.state, 'engaged', 'engaged');
  t.ok(tk.deadlineAt, 'the deadline runs');
  t.match(
    tk.events.find((e: any) => e.type === 'contact_reached'),
    { actor: 'contact:Alice Admin', reason: 'Alice Admin acknowledged by the email link', data: { channel: 'link' } },
  );
  await waitUntil(() => w.standin.calls.get(bob.sid)!.updates.find((u) => u['Status'] === 'canceled'), { message: 'Bob’s ringing call was not cancelled' });
  t.pass('Bob’s ringing call is cancelled through the API');

  await w.sink.waitFor((m) => /acknowledged/i.test(m.subject ?? ''), { count: 3, message: 'not everyone was told who acknowledged' } as never);
  const told = w.sink.messages.filter((m) => /acknowledged/i.test(m.subject ?? ''));
  t.same(told.flatMap((m) => m.envelopeTo).sort(), [ALICE.email, BOB.email, TAM_PHONE.email].sort(), 'every contact and the TAM are told');
  t.match(told[0]!.text ?? '', /Alice Admin acknowledged this ticket for .+ by the link in our email/, 'who and how');

  // The agent's ticket page shows the acknowledgement on the walk timeline, with who and how.
  const { page: agent, errors: agentErrors } = await openPage(t, browser);
  await agent.goto(`${w.svc.baseUrl}/ui/tickets/${w.number}`);
  await agent.getByLabel('API token').fill(ADMIN_TOKEN);
  await agent.getByRole('button', { name: 'Sign in' }).click();
  const ack = agent.getByTestId('acknowledgement');
  await ack.waitFor();
  t.match(await ack.textContent(), /email link\s*Acknowledged by Alice Admin/, 'the walk timeline shows who acknowledged and how');
  await agent.screenshot({ path: path.join(SHOTS, 'ticket-acknowledged.png'), fullPage: true });
  t.same(agentErrors, [], 'no console errors on the ticket page');

  await plain.goto(link);
  await plain.getByRole('heading', { name: `Ticket ${w.number} needs no acknowledgement now` }).waitFor();
  t.pass('the used link says the ticket needs no acknowledgement now');
  t.equal((await w.ticket()).events.filter((e: any) => e.type === 'contact_reached').length, 1, 'acknowledged once');
});
