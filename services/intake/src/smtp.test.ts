// The intake listener bounds its connections: one address cannot hold more than its share (421 from
// onConnect), all addresses together no more than the limit (smtp-server's 421), and a closed connection
// frees its slot. Raw sockets from several loopback addresses, as different senders.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { waitUntil } from '@abuse-desk/testkit';
import pino from 'pino';
import t from 'tap';
import { senderKey, startIntakeSmtp } from './smtp.js';

/** Connects from `localAddress` and resolves with the socket and the server's first line (its greeting or refusal). */
function greeting(port: number, localAddress: string): Promise<{ socket: Socket; line: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) resolve({ socket, line: text.slice(0, end) });
    });
  });
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    socket.end();
  });

t.test('connections are bounded per address and in all; a closed one frees its slot', async (t) => {
  const smtp = await startIntakeSmtp({ host: '127.0.0.1', port: 0, maxBytes: 10_240, maxConnections: 6, maxConnectionsPerAddress: 2, tls: undefined, logger: pino({ level: 'silent' }), store: async () => 'never' });
  t.teardown(() => smtp.close());
  const open: Socket[] = [];
  t.teardown(() => open.forEach((s) => s.destroy()));

  const a1 = await greeting(smtp.port, '127.0.0.1');
  const a2 = await greeting(smtp.port, '127.0.0.1');
  open.push(a1.socket, a2.socket);
  t.match([a1.line, a2.line], [/^220 /, /^220 /], 'two connections from one address are greeted');
  const a3 = await greeting(smtp.port, '127.0.0.1');
  t.match(a3.line, /^421 4\.7\.0 Too many connections from 127\.0\.0\.1/, 'a third from the same address is refused with 421');
  await closed(a3.socket);

  const b = await greeting(smtp.port, '127.0.0.2');
  open.push(b.socket);
  t.match(b.line, /^220 /, 'another address is still greeted');

  await closed(a1.socket);
  // The server sees the close a moment later: until then a new connection may still be refused.
  const a4 = await waitUntil(async () => {
    const g = await greeting(smtp.port, '127.0.0.1');
    if (/^220 /.test(g.line)) return g;
    g.socket.destroy();
    return null;
  }, { message: 'the closed connection never freed its slot' });
  open.push(a4.socket);
  t.pass('a closed connection frees its slot');

  for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.3']) {
    const c = await greeting(smtp.port, address);
    open.push(c.socket);
    t.match(c.line, /^220 /, `connection from ${address} greeted`);
  }
  const over = await greeting(smtp.port, '127.0.0.4');
  t.match(over.line, /^421 .*Too many connected clients/, 'beyond the limit in all, a new address is refused with 421 too');
  over.socket.destroy();
});

t.test('the per-address limit counts an IPv4 address as it is and an IPv6 address by its /64', async (t) => {
  t.equal(senderKey('192.0.2.7'), '192.0.2.7');
  t.equal(senderKey('::ffff:192.0.2.7'), '192.0.2.7', 'an IPv4-mapped address is its IPv4 address');
  t.equal(senderKey('2001:db8:a:b:1:2:3:4'), '2001:db8:a:b::/64');
  t.equal(senderKey('2001:DB8:a:b::99'), '2001:db8:a:b::/64', 'any host of the /64, any case');
  t.equal(senderKey('2001:db8::1'), '2001:db8:0:0::/64', 'a compressed address is expanded first');
  t.equal(senderKey('2001:db8:0:1::1'), '2001:db8:0:1::/64', 'the next /64 is another sender');
  t.equal(senderKey('::1'), '0:0:0:0::/64');
  t.equal(senderKey('64:ff9b::192.0.2.7'), '64:ff9b:0:0::/64', 'an IPv4 tail counts as two groups');
  t.equal(senderKey(''), '');
});
