// A revoked token is refused by every api process at once (issue 15): two api replicas over one
// PostgreSQL database, each its own OS process; the token is revoked through one and must be refused by
// the other within a second (each reads tokens from the database on every request: no cache to expire).
import t from 'tap';
import { client, prepareService } from './harness.js';

t.test('a token revoked through one api process is refused by another within a second', async (t) => {
  const svc = await prepareService({ name: 'token-revocation', arrangement: { engine: 'postgres', processes: 'one' }, roleSets: [['api'], ['api']], env: {} });
  t.teardown(() => svc.stop());
  await svc.start();
  const [first, second] = svc.processUrls as [string, string];
  t.not(first, second, 'two processes, two addresses');
  const admin = client(first);
  const made = await admin('POST', '/v1/tokens', { name: 'leaked', role: 'agent' });
  t.equal(made.status, 201);
  const onSecond = client(second, made.body.token);
  t.equal((await onSecond('GET', '/v1/tickets')).status, 200, 'the other process accepts the token');

  t.equal((await admin('DELETE', `/v1/tokens/${made.body.id}`)).status, 204);
  const revokedAt = Date.now();
  let status = 0;
  while (Date.now() - revokedAt < 1000) {
    status = (await onSecond('GET', '/v1/tickets')).status;
    if (status === 401) break;
  }
  t.equal(status, 401, 'refused by the other process');
  t.ok(Date.now() - revokedAt < 1000, `within a second (${Date.now() - revokedAt} ms)`);
});
