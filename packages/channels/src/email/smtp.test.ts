import { startSmtpSink, ticketView } from '@abuse-desk/testkit';
import { pino } from 'pino';
import t from 'tap';
import { createSmtpEmailChannel } from './smtp.js';
import { renderEmail } from './templates.js';

const logger = pino({ level: 'silent' });

/** The sample ticket before any deadline runs, linking to a local resolution page. */
const view = ticketView({ deadlineAt: null, resolutionUrl: 'http://localhost:8080/resolve/Zm9vYmFyYmF6cXV4' });

t.test('a follow-up sent over SMTP arrives with its recipient, subject, Message-ID and resolution link', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const channel = createSmtpEmailChannel({ url: sink.url, from: 'Abuse Desk <abuse@desk.example>', logger });
  t.teardown(() => channel.close());

  const rendered = renderEmail('followup', view, { name: 'Bob Builder', timezone: 'Europe/Berlin' });
  const { providerRef } = await channel.send({ to: ['bob@acme.example'], messageId: 'attempt-7f3a@abuse-desk', ...rendered });

  const [mail] = await sink.waitFor((m) => m.messageId === '<attempt-7f3a@abuse-desk>');
  t.same(mail!.envelopeTo, ['bob@acme.example']);
  t.equal(mail!.from?.text, '"Abuse Desk" <abuse@desk.example>');
  t.equal(mail!.subject, '[ABU-000042] Outbound spam from Acme Hosting — action needed');
  t.match(mail!.text, 'ABU-000042');
  t.match(mail!.text, 'http://localhost:8080/resolve/Zm9vYmFyYmF6cXV4');
  t.match(mail!.html, '<a href="http://localhost:8080/resolve/Zm9vYmFyYmF6cXV4">');
  t.match(providerRef, 'queued as sink-1', "the server's reply is kept as the provider reference");
});

t.test('a final notice reaches every contact in one message', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const channel = createSmtpEmailChannel({ url: sink.url, from: 'abuse@desk.example', logger });
  t.teardown(() => channel.close());

  const rendered = renderEmail('final', { ...view, deadlineAt: new Date('2025-01-02T15:05:00Z') }, { name: 'Acme Hosting contacts', timezone: null });
  await channel.send({ to: ['bob@acme.example', 'carol@acme.example'], messageId: '<final-1@abuse-desk>', ...rendered });

  const [mail] = await sink.waitFor((m) => m.subject?.startsWith('[ABU-000042] Final notice') === true);
  t.same([...mail!.envelopeTo].sort(), ['bob@acme.example', 'carol@acme.example']);
  t.equal(mail!.messageId, '<final-1@abuse-desk>', 'an id already in angle brackets is kept as it is');
  t.match(mail!.text, /Deadline:\s+2025-01-02 15:05 UTC/);
});

t.test('a send that the server cannot take throws, so that the caller retries', async (t) => {
  const sink = await startSmtpSink();
  const url = sink.url;
  await sink.close();
  const channel = createSmtpEmailChannel({ url, from: 'abuse@desk.example', logger });
  t.teardown(() => channel.close());
  const rendered = renderEmail('followup', view, { name: 'Bob', timezone: null });
  await t.rejects(channel.send({ to: ['bob@acme.example'], messageId: 'attempt-x@abuse-desk', ...rendered }));
});
