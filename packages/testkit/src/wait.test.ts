import t from 'tap';
import { waitUntil } from './wait.js';

t.test('waitUntil resolves with the first value that is there', async (t) => {
  let calls = 0;
  const value = await waitUntil(async () => (++calls >= 3 ? { row: calls } : undefined), { intervalMs: 1 });
  t.same(value, { row: 3 });
});

t.test('waitUntil keeps trying through errors and gives up with the message and the last error', async (t) => {
  await t.rejects(
    waitUntil(
      () => {
        throw new Error('relation "tickets" does not exist');
      },
      { timeoutMs: 50, intervalMs: 5, message: 'a ticket for tenant acme' },
    ),
    { message: 'waitUntil timed out after 50 ms: a ticket for tenant acme; last error: relation "tickets" does not exist' },
  );
  await t.rejects(waitUntil(() => false, { timeoutMs: 20, intervalMs: 5, message: 'never' }), { message: 'waitUntil timed out after 20 ms: never' });
});
