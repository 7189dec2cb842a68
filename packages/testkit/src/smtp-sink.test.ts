import { createConnection } from 'node:net';
import t from 'tap';
import { startSmtpSink } from './smtp-sink.js';

/** Speaks just enough SMTP to deliver one message, so the sink is tested without the code it tests. */
async function deliver(port: number, rcpts: string[], message: string, opts: { dropMidMessage?: boolean } = {}) {
  const socket = createConnection(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  const reply = () =>
    new Promise<string>((resolve) => {
      const check = () => {
        const m = buffer.match(/^(\d{3}) .*\r\n/m);
        if (m) {
          const end = buffer.indexOf(m[0]) + m[0].length;
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end);
          socket.off('data', onData);
          resolve(line);
        }
      };
      const onData = (chunk: string) => {
        buffer += chunk;
        check();
      };
      socket.on('data', onData);
      check();
    });
  const say = async (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  await reply();
  await say('EHLO test');
  await say('MAIL FROM:<abuse@desk.example>');
  for (const r of rcpts) await say(`RCPT TO:<${r}>`);
  await say('DATA');
  if (opts.dropMidMessage) {
    // A sender killed in the middle of DATA: part of the message, no final dot, the connection gone.
    socket.write(message.replace(/\n/g, '\r\n').slice(0, 40));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    return 'dropped';
  }
  const accepted = await say(`${message.replace(/\n/g, '\r\n')}\r\n.`);
  await say('QUIT');
  socket.end();
  return accepted;
}

t.test('the sink parses what arrives and keeps the envelope recipients', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  t.match(sink.url, /^smtp:\/\/127\.0\.0\.1:\d+$/);

  const accepted = await deliver(sink.port, ['bob@acme.example', 'hidden@acme.example'], 'From: abuse@desk.example\nTo: bob@acme.example\nSubject: [ABU-000001] hello\n\nReport the fix at http://x/resolve/t\n');
  t.match(accepted, /^250 /);

  const [mail] = await sink.waitFor((m) => m.subject === '[ABU-000001] hello');
  t.same(mail!.envelopeTo, ['bob@acme.example', 'hidden@acme.example']);
  t.equal(mail!.envelopeFrom, 'abuse@desk.example');
  t.match(mail!.text, 'http://x/resolve/t');
});

t.test('waiting for a message that never comes fails with the subjects that did arrive', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  await deliver(sink.port, ['bob@acme.example'], 'Subject: [ABU-000002] the wrong one\n\nbody\n');
  await sink.waitFor(() => true);

  await t.rejects(sink.waitFor((m) => m.subject === 'never', { timeoutMs: 100 }), {
    message: /1 received: "\[ABU-000002\] the wrong one"/,
  });
  await t.rejects(sink.waitFor(() => true, { timeoutMs: 100, count: 2 }), { message: /for 2 matching message\(s\), 1 matched/ });
});

t.test('a message whose sender died in the middle of DATA is discarded, as a real server does', async (t) => {
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  await deliver(sink.port, ['bob@acme.example'], 'Subject: [ABU-000003] cut short by a crash\n\nthe body that never fully arrived\n', { dropMidMessage: true });
  await deliver(sink.port, ['bob@acme.example'], 'Subject: [ABU-000004] complete\n\nbody\n');
  await sink.waitFor((m) => m.subject === '[ABU-000004] complete');
  t.same(sink.messages.map((m) => m.subject), ['[ABU-000004] complete'], 'only the complete message was delivered');
});

t.test('a sink with an accept delay holds each message before its 250', async (t) => {
  const sink = await startSmtpSink({ acceptDelayMs: 300 });
  t.teardown(() => sink.close());
  const started = Date.now();
  t.match(await deliver(sink.port, ['bob@acme.example'], 'Subject: slow\n\nbody\n'), /^250 /);
  t.ok(Date.now() - started >= 290, 'the 250 came after the delay');
});
