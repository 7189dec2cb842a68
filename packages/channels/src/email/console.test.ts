import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { createConsoleEmailChannel } from './console.js';

t.test('the console email channel logs the email it would send, links redacted, saves it whole, and reports it as sent', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const outboxDir = path.join(mkdtempSync(path.join(tmpdir(), 'console-email-')), 'outbox');
  const channel = createConsoleEmailChannel({ logger, outboxDir });

  const { providerRef } = await channel.send({
    to: ['bob@acme.example'],
    subject: '[ABU-000042] Outbound spam from Acme Hosting — action needed',
    text: 'Report the fix at http://localhost:8080/resolve/abc_DEF-123 before 11:00. Acknowledge: http://localhost:8080/ack/ack_XYZ-789',
    html: '<p>…</p>',
    messageId: '<attempt-1@abuse-desk>',
  });

  t.equal(providerRef, 'console:<attempt-1@abuse-desk>');
  const file = path.join(outboxDir, 'attempt-1@abuse-desk.txt');
  t.match(lines, [
    {
      msg: 'email.console.sent',
      to: ['bob@acme.example'],
      subject: '[ABU-000042] Outbound spam from Acme Hosting — action needed',
      messageId: '<attempt-1@abuse-desk>',
      file,
      text: 'Report the fix at http://localhost:8080/resolve/[redacted] before 11:00. Acknowledge: http://localhost:8080/ack/[redacted]',
    },
  ]);
  t.notMatch(JSON.stringify(lines), 'ack_XYZ-789', 'the acknowledgement token is not logged');
  t.notMatch(JSON.stringify(lines), 'abc_DEF-123', 'the token is in no log line');
  t.match(readFileSync(file, 'utf8'), /^To: bob@acme\.example\nSubject: \[ABU-000042\].*\nMessage-ID: <attempt-1@abuse-desk>\n\nReport the fix at http:\/\/localhost:8080\/resolve\/abc_DEF-123 before 11:00\. Acknowledge: http:\/\/localhost:8080\/ack\/ack_XYZ-789$/);
  await channel.close();
});
