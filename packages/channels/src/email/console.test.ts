import { pino } from 'pino';
import t from 'tap';
import { createConsoleEmailChannel } from './console.js';

t.test('the console email channel logs the email it would send and reports it as sent', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const channel = createConsoleEmailChannel({ logger });

  const { providerRef } = await channel.send({
    to: ['bob@acme.example'],
    subject: '[ABU-000042] Outbound spam from Acme Hosting — action needed',
    text: 'Report the fix at http://localhost:8080/resolve/abc',
    html: '<p>…</p>',
    messageId: 'attempt-1@abuse-desk',
  });

  t.equal(providerRef, 'console:attempt-1@abuse-desk');
  t.match(lines, [
    {
      msg: 'email.console.sent',
      to: ['bob@acme.example'],
      subject: '[ABU-000042] Outbound spam from Acme Hosting — action needed',
      messageId: 'attempt-1@abuse-desk',
      text: 'Report the fix at http://localhost:8080/resolve/abc',
    },
  ]);
  await channel.close();
});
