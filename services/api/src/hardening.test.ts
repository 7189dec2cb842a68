// Refusals before a route runs (issue 15): path-like tenant ids, NUL characters, and Node's HTTP parser's
// own refusals answered as problem+json; TRUST_PROXY makes the client's address the one a proxy forwards.
import { connect as tcpConnect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@abuse-desk/config';
import { ENGINES } from '@abuse-desk/db/testing';
import { TestClock } from '@abuse-desk/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { buildApp } from './app.js';
import { PROBLEM, openTestApi } from './test-app.js';

/** Sends raw bytes to a listening server and reads the whole answer. */
function raw(port: number, bytes: string): Promise<{ status: number; contentType: string; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      resolve({ status, contentType: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '', body: body ? JSON.parse(body) : null });
    });
    socket.write(bytes);
  });
}

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const api = await openTestApi(t, engine);
    let port: number | null = null;
    const listening = async () => {
      if (port === null) {
        await api.app.listen({ port: 0, host: '127.0.0.1' });
        port = (api.app.server.address() as AddressInfo).port;
      }
      return port;
    };

    t.test('tenant ids "." and ".." are refused: in the path as sent, and in verdicts', async (t) => {
      // Sent over a socket as written: an HTTP client library would resolve the dot segments first.
      const port = await listening();
      for (const id of ['.', '..', '%2E', '%2e%2E']) {
        const body = JSON.stringify({ name: 'Dots' });
        const r = await raw(port, `PUT /v1/tenants/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.tokens.admin}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        t.equal(r.status, 400, id);
        t.match(r.contentType, PROBLEM);
        t.match(r.body.detail, /must not be "\." or "\.\."/, id);
      }
      t.equal((await api.request('PUT', '/v1/tenants/a.b', { body: { name: 'Dotted' } })).status, 200, 'a dot inside a name is fine');
      const v = await api.request('POST', '/v1/verdicts', { as: 'ingest', body: [{ tenantId: '..', messageId: 'm1', verdict: 'spam', occurredAt: '2026-11-22T10:00:00Z' }] });
      t.match(v.body, { accepted: 0, rejected: 1, errors: [{ index: 0, reason: /must not be "\." or "\.\."/ }] });
    });

    t.test('a NUL character anywhere in a request is refused with 400 naming the field, before the database', async (t) => {
      await api.request('PUT', '/v1/tenants/nul', { body: { name: 'Nul' } });
      const body = await api.request('PUT', '/v1/tenants/nul', { body: { name: 'a\u0000b' } });
      t.equal(body.status, 400);
      t.match(body.contentType, PROBLEM);
      t.match(body.body, { errors: [{ field: 'body.name', message: 'must not contain NUL characters' }] });
      const nested = await api.request('PUT', '/v1/tenants/nul/contacts', { body: [{ name: 'x\u0000', email: 'a@b.example', role: 'contact' }] });
      t.match(nested.body, { status: 400, errors: [{ field: 'body.0.name' }] });
      const query = await api.request('GET', '/v1/tickets?tenantId=a%00b');
      t.match(query.body, { status: 400, detail: /NUL/ });
      t.equal((await api.request('GET', '/v1/tenants/nul')).body.name, 'Nul', 'nothing was stored');
    });

    t.test("the HTTP parser's refusals are problem documents too: 431 for headers too large, 400 for a malformed request", async (t) => {
      const port = await listening();
      const big = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      t.equal(big.status, 431);
      t.match(big.contentType, PROBLEM);
      t.match(big.body, { type: 'about:blank', title: 'Request Header Fields Too Large', status: 431 });
      const garbage = await raw(port, 'THIS IS NOT HTTP\r\n\r\n');
      t.equal(garbage.status, 400);
      t.match(garbage.contentType, PROBLEM);
      t.match(garbage.body, { title: 'Bad Request', status: 400, detail: /could not be parsed/ });
    });
  });
}

t.test('with TRUST_PROXY the client address is the one the proxy forwards; without it, X-Forwarded-For is ignored', async (t) => {
  const api = await openTestApi(t, 'pglite');
  const addressOf = async (env: Record<string, string>) => {
    const app = await buildApp({ db: api.db, config: loadConfig({ PUBLIC_BASE_URL: 'http://abuse.test', ...env }), logger: pino({ level: 'silent' }), clock: new TestClock(), registry: new Registry(), readiness: [] });
    t.teardown(() => app.close());
    // The address every rate limit and request log uses.
    app.get('/client-address', async (request) => ({ ip: request.ip }));
    const r = await app.inject({ method: 'GET', url: '/client-address', remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': '203.0.113.7' } });
    return JSON.parse(r.body).ip;
  };
  t.equal(await addressOf({ TRUST_PROXY: '10.0.0.0/8' }), '203.0.113.7', 'a trusted proxy: the forwarded client');
  t.equal(await addressOf({}), '10.1.2.3', 'no TRUST_PROXY: the peer');
  t.equal(await addressOf({ TRUST_PROXY: '192.168.0.1' }), '10.1.2.3', 'a proxy not in the list is not believed');
  t.throws(() => loadConfig({ TRUST_PROXY: 'not-an-address' }), /TRUST_PROXY: must be a comma list of IP addresses or CIDR ranges/);
});
