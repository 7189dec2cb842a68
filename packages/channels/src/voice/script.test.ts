import { ticketView } from '@abuse-desk/testkit';
import t from 'tap';
import { callScript, voicemailScript } from './script.js';

t.test('the call says who is calling, about which tenant and what happened', async (t) => {
  const script = callScript(ticketView(), { name: 'Bob Builder', timezone: null });
  t.match(script, 'Hello Bob Builder.');
  t.match(script, 'This is the abuse desk');
  t.match(script, 'outbound mail from Acme Hosting');
  t.match(script, '620 of 5,000 messages sent from this account, 12.4 percent, were spam or phishing');
});

t.test('the call reads the ticket number digit by digit', async (t) => {
  const script = callScript(ticketView(), { name: 'Bob', timezone: null });
  t.match(script, 'ticket A B U, 0 0 0 0 4 2');
  t.notMatch(script, 'ABU-000042', 'never the written form, which a speech engine reads as forty-two');
});

t.test('the call asks the listener to press 1 to acknowledge', async (t) => {
  t.match(callScript(ticketView(), { name: 'Bob', timezone: null }), 'Press 1 to acknowledge');
});

t.test('the call gives the deadline in UTC and in the listener’s own time', async (t) => {
  const script = callScript(ticketView(), { name: 'Bob', timezone: 'America/New_York' });
  t.match(script, 'If no fix is reported by 15:05 UTC on 2 January, that is 10:05 New York time, outbound mail from Acme Hosting will be disabled.');
  t.match(callScript(ticketView(), { name: 'Bob', timezone: null }), 'by 15:05 UTC on 2 January, outbound mail');
});

t.test('before a deadline runs the call says one starts once the listener acknowledges', async (t) => {
  const script = callScript(ticketView({ deadlineAt: null }), { name: 'Bob', timezone: null });
  t.match(script, 'Once you acknowledge, Acme Hosting has a limited time to report a fix');
});

t.test('the voicemail gives the ticket number, the deadline and says an email follows', async (t) => {
  const script = voicemailScript(ticketView(), { name: 'Bob', timezone: 'Europe/Berlin' });
  t.match(script, 'ticket A B U, 0 0 0 0 4 2');
  t.match(script, '15:05 UTC on 2 January, that is 16:05 Berlin time');
  t.match(script, 'An email follows');
  t.notMatch(script, 'Press 1', 'a voicemail cannot be acknowledged by a key press');
});
