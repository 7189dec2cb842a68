import t from 'tap';
import { RateLimiter } from './rate-limit.js';

t.test('a key may hit the limit, then waits for its window to end', async (t) => {
  const l = new RateLimiter(3, 60_000);
  t.same([1, 2, 3].map(() => l.hit('a', 1000).allowed), [true, true, true]);
  t.same(l.hit('a', 1000), { allowed: false, retryAfterSeconds: 60 });
  t.same(l.hit('a', 31_000), { allowed: false, retryAfterSeconds: 30 });
  t.equal(l.hit('a', 61_001).allowed, true, 'a new window starts');
});

t.test('keys are counted apart', async (t) => {
  const l = new RateLimiter(1, 1000);
  t.ok(l.hit('a', 0).allowed);
  t.ok(l.hit('b', 0).allowed);
  t.notOk(l.hit('a', 0).allowed);
});

t.test('a flood of distinct keys does not grow memory without bound', async (t) => {
  const l = new RateLimiter(1, 60_000, 100);
  let largest = 0;
  for (let i = 0; i < 1000; i++) {
    l.hit(`k${i}`, 0);
    largest = Math.max(largest, l.size);
  }
  t.equal(largest, 100, 'it never holds more than maxKeys windows');
  t.ok(l.hit('fresh', 0).allowed, 'new keys are still admitted');
  t.equal(l.size, 100);
  l.hit('later', 60_000);
  t.equal(l.size, 1, 'keys whose windows have ended are forgotten');
});

t.test('the resolution endpoint answers 429 with Retry-After once a ticket has had ten submissions in ten minutes', async (t) => {
  const { openTestApi, openTicket } = await import('./test-app.js');
  const { issueResolutionToken } = await import('@abuse-desk/db');
  const api = await openTestApi(t, 'pglite');
  const ticket = await openTicket(api, 'flood');
  const token = await issueResolutionToken(api.db, ticket.id, api.clock.now());
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token: i % 2 ? token : 'x'.repeat(43), actionsTaken: `attempt number ${i} at fixing it` } });
    statuses.push(r.status);
  }
  t.equal(statuses[10], 429, 'the eleventh is refused');
  t.ok(statuses.slice(0, 10).every((s) => s !== 429), 'the first ten are answered');
  const r = await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token, actionsTaken: 'one more honest attempt' } });
  t.equal(r.status, 429);
  t.ok(Number(r.headers['retry-after']) > 0, 'with Retry-After');
  api.clock.advance(10 * 60_000 + 1);
  t.equal((await api.request('POST', '/v1/resolutions', { as: null, body: { ticketNumber: ticket.number, token, actionsTaken: 'after the window ended' } })).status, 202);
});
