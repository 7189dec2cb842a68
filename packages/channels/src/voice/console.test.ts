import { pino } from 'pino';
import t from 'tap';
import { createConsoleVoiceChannel } from './console.js';

t.test('the console voice channel logs the call and ends it as no-answer after the ring time', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const channel = createConsoleVoiceChannel({ logger, ringSeconds: 30 });
  const now = new Date('2025-01-02T14:00:00.000Z');

  const result = await channel.placeCall({ attemptId: 'att-1', to: '+4915112345678', script: 'This is the abuse desk. Press 1 to acknowledge.' }, now);

  t.same(result, { status: 'placed', providerRef: 'console:att-1', resultDueAt: new Date('2025-01-02T14:00:30.000Z') });
  t.match(lines, [{ msg: 'voice.console.call', to: '+4915112345678', attemptId: 'att-1', script: 'This is the abuse desk. Press 1 to acknowledge.' }]);
  t.equal(await channel.overdueOutcome('console:att-1'), 'no-answer');
});
