import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import twilio from 'twilio';
import { signedPost } from './twilio-callbacks.js';
import { twilioClientFor } from './twilio-client.js';
import { startTwilioStandin, type TwilioStandin } from './twilio-standin.js';

const TO = '+14155550100';
const FROM = '+14155550199';
const PUBLIC = 'https://desk.example';

async function standin(t: { teardown(fn: () => unknown): void }): Promise<TwilioStandin> {
  const s = await startTwilioStandin();
  t.teardown(() => s.close());
  return s;
}

/** The create the product sends (SPEC §8), through the real client. */
const createParams = {
  to: TO,
  from: FROM,
  url: `${PUBLIC}/webhooks/twilio/voice?a=1`,
  fallbackUrl: `${PUBLIC}/webhooks/twilio/fallback?a=1`,
  statusCallback: `${PUBLIC}/webhooks/twilio/status?a=1`,
  statusCallbackMethod: 'POST',
  statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
  timeout: 30,
  timeLimit: 180,
  machineDetection: 'DetectMessageEnd',
  asyncAmd: 'true',
  asyncAmdStatusCallback: `${PUBLIC}/webhooks/twilio/amd?a=1`,
};

t.test('the real client creates a call that the stand-in records as sent and that conforms to the spec', async (t) => {
  const s = await standin(t);
  const call = await twilioClientFor(s).calls.create(createParams);

  t.match(call.sid, /^CA[0-9a-f]{32}$/);
  t.equal(call.status, 'queued');
  t.equal(call.to, TO);
  t.equal(call.direction, 'outbound-api');
  t.equal(call.accountSid, s.accountSid);
  t.ok(call.dateCreated instanceof Date && !Number.isNaN(call.dateCreated.getTime()), 'date_created parses as RFC 2822');
  t.equal(call.startTime, null);

  t.equal(s.requests.length, 1);
  const [req] = s.requests;
  t.equal(req?.method, 'POST');
  t.equal(req?.path, `/2010-04-01/Accounts/${s.accountSid}/Calls.json`);
  t.same(req?.specErrors, []);
  t.same(req?.params.StatusCallbackEvent, ['initiated', 'ringing', 'answered', 'completed']);
  t.match(req?.params, { To: TO, From: FROM, MachineDetection: 'DetectMessageEnd', AsyncAmd: 'true', Timeout: '30', TimeLimit: '180' });

  const recorded = s.calls.get(call.sid);
  t.match(recorded, { sid: call.sid, to: TO, from: FROM, status: 'queued', updates: [] });
  t.same(recorded?.params.StatusCallbackEvent, ['initiated', 'ringing', 'answered', 'completed']);
  t.equal(recorded?.params.FallbackUrl, createParams.fallbackUrl);
  t.equal(recorded?.params.AsyncAmdStatusCallback, createParams.asyncAmdStatusCallback);

  const fetched = await twilioClientFor(s).calls(call.sid).fetch();
  t.equal(fetched.sid, call.sid);
});

t.test('a single StatusCallbackEvent is still recorded as an array', async (t) => {
  const s = await standin(t);
  const call = await twilioClientFor(s).calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v`, statusCallbackEvent: ['completed'] });
  t.same(s.calls.get(call.sid)?.params.StatusCallbackEvent, ['completed']);
});

/** A request sent as is (twilio-node checks required parameters itself and sends only those it knows). */
async function send(s: TwilioStandin, method: 'GET' | 'POST', path: string, pairs: [string, string][] = []): Promise<{ status: number; body: any }> {
  const form = new URLSearchParams(pairs);
  const url = `${s.baseUrl}/2010-04-01/Accounts/${s.accountSid}${path}${method === 'GET' && pairs.length > 0 ? `?${form}` : ''}`;
  const res = await fetch(url, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(method === 'POST' ? { body: form } : {}),
  });
  return { status: res.status, body: await res.json() };
}

const VALID_CREATE: [string, string][] = [
  ['To', TO],
  ['From', FROM],
  ['Url', `${PUBLIC}/v`],
];

t.test('parameters the spec does not declare, missing required ones and values it does not allow are all reported, and the create is refused', async (t) => {
  const s = await standin(t);
  const res = await send(s, 'POST', '/Calls.json', [
    ['To', TO],
    ['Url', `${PUBLIC}/v`],
    ['StatusCallbackEvents', 'completed'],
    ['MachineDetection', 'DetectMessageEnds'],
    ['StatusCallbackEvent', 'answer'],
    ['StatusCallbackMethod', 'PUT'],
    ['Timeout', 'thirty'],
  ]);
  t.equal(res.status, 400);
  t.match(res.body, { status: 400, code: 21213, more_info: 'https://www.twilio.com/docs/errors/21213' }, "the first problem, no From, decides Twilio's code");
  t.match(res.body.message, /StatusCallbackEvents is not declared.*Timeout="thirty"/, 'the message names every problem');
  const errors = s.requests[0]?.specErrors ?? [];
  t.match(errors.join('\n'), /parameter StatusCallbackEvents is not declared/);
  t.match(errors.join('\n'), /required parameter From is missing/);
  t.match(errors.join('\n'), /MachineDetection="DetectMessageEnds" is not one of Enable, DetectMessageEnd/);
  t.match(errors.join('\n'), /StatusCallbackEvent="answer" is not one of initiated, ringing, answered, completed/);
  t.match(errors.join('\n'), /StatusCallbackMethod="PUT" is not one of GET, POST/);
  t.match(errors.join('\n'), /Timeout="thirty" is not an integer/);
  t.equal(errors.length, 6, errors.join('\n'));
  t.equal(s.calls.size, 0);
});

t.test('a create with a parameter the spec does not declare gets 400 (20001) and creates nothing', async (t) => {
  const s = await standin(t);
  const res = await send(s, 'POST', '/Calls.json', [...VALID_CREATE, ['StatusCallbackEvents', 'completed']]);
  t.equal(res.status, 400);
  t.same(Object.keys(res.body).sort(), ['code', 'message', 'more_info', 'status'], "Twilio's error body");
  t.match(res.body, { code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001', message: /StatusCallbackEvents/ });
  t.equal(s.calls.size, 0, 'no call was created');
  t.match(s.requests[0]?.specErrors, [/parameter StatusCallbackEvents is not declared/], 'the request is still recorded with its problem');
});

t.test('a create with a value the spec does not allow gets 400 through the real client and creates nothing', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  await t.rejects(client.calls.create({ ...createParams, machineDetection: 'DetectMessageEnds' }), { status: 400, code: 21234, moreInfo: 'https://www.twilio.com/docs/errors/21234' }, 'MachineDetection outside Enable, DetectMessageEnd');
  await t.rejects(client.calls.create({ ...createParams, statusCallbackEvent: ['initiated', 'answer'] }), { status: 400, code: 400, message: /StatusCallbackEvent="answer"/ }, 'a StatusCallbackEvent outside the listed events');
  await t.rejects(client.calls.create({ ...createParams, statusCallbackMethod: 'PUT' }), { status: 400, message: /StatusCallbackMethod="PUT" is not one of GET, POST/ }, 'an HTTP method outside the enum');
  await t.rejects(client.calls.create({ ...createParams, url: '/webhooks/twilio/voice?a=1' }), { status: 400, code: 21205 }, 'a relative Url');
  await t.rejects(client.calls.create({ ...createParams, timeout: 'thirty' as unknown as number }), { status: 400, code: 21208 }, 'a Timeout that is not an integer');
  t.equal(s.calls.size, 0, 'no call was created');
  t.equal(s.requests.length, 5);
  t.ok(s.requests.every((r) => r.specErrors.length === 1), 'each request recorded with its one problem');
});

t.test('a create missing To or From gets 400 with the code Twilio documents for each, and creates nothing', async (t) => {
  const s = await standin(t);
  const noFrom = await send(s, 'POST', '/Calls.json', VALID_CREATE.filter(([k]) => k !== 'From'));
  t.equal(noFrom.status, 400);
  t.match(noFrom.body, { code: 21213, status: 400, message: /From/ });
  const noTo = await send(s, 'POST', '/Calls.json', VALID_CREATE.filter(([k]) => k !== 'To'));
  t.equal(noTo.status, 400);
  t.match(noTo.body, { code: 21201, status: 400, message: /'To'/ });
  t.equal(s.calls.size, 0);
});

t.test('after refused creates a valid one is still created, and a refusal uses up no failure planned with failNext', async (t) => {
  const s = await standin(t);
  s.failNext('create', 'http500');
  t.equal((await send(s, 'POST', '/Calls.json', [...VALID_CREATE, ['Timeout', '-']])).status, 400);
  t.equal(s.calls.size, 0);
  const failed = await send(s, 'POST', '/Calls.json', VALID_CREATE);
  t.match(failed, { status: 500, body: { code: 20500 } }, 'the planned 500 hits the first valid create');
  const ok = await send(s, 'POST', '/Calls.json', VALID_CREATE);
  t.equal(ok.status, 201);
  t.match(ok.body, { to: TO, from: FROM, status: 'queued' });
  t.equal(s.calls.size, 2, 'the two valid creates placed calls, the refused one none');
  t.same(s.requests.map((r) => r.specErrors.length), [1, 0, 0]);
});

t.test('an update with a value the spec does not allow gets 400 and leaves the call as it was', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const call = await client.calls.create(createParams);
  await t.rejects(client.calls(call.sid).update({ status: 'cancelled' as unknown as 'canceled' }), { status: 400, message: /Status="cancelled" is not one of canceled, completed/ });
  const refused = await send(s, 'POST', `/Calls/${call.sid}.json`, [['Status', 'canceled'], ['Reason', 'done']]);
  t.match(refused, { status: 400, body: { code: 20001 } }, 'an undeclared parameter next to a valid one');
  t.match(s.calls.get(call.sid), { status: 'queued', updates: [] }, 'neither update was applied');
  t.equal((await client.calls(call.sid).update({ status: 'canceled' })).status, 'canceled', 'a valid update still works');
});

t.test('a list with a filter the spec does not declare gets 400', async (t) => {
  const s = await standin(t);
  const res = await send(s, 'GET', '/Calls.json', [['To', TO], ['Direction', 'outbound-api']]);
  t.match(res, { status: 400, body: { code: 20001, message: /query parameter Direction is not declared/ } });
  t.equal((await send(s, 'GET', '/Calls.json', [['To', TO]])).status, 200);
});

t.test('updates cancel a call and replace its TwiML, and are recorded', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const a = await client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` });
  const b = await client.calls.create({ to: '+14155550101', from: FROM, url: `${PUBLIC}/v` });

  const canceled = await client.calls(a.sid).update({ status: 'canceled' });
  t.equal(canceled.status, 'canceled');
  t.equal(s.calls.get(a.sid)?.status, 'canceled');
  t.same(s.calls.get(a.sid)?.updates, [{ Status: 'canceled' }]);

  const twiml = '<Response><Say>Ticket 42</Say><Hangup/></Response>';
  const s2 = s.calls.get(b.sid);
  if (s2) s2.status = 'in-progress';
  await client.calls(b.sid).update({ twiml });
  t.same(s.calls.get(b.sid)?.updates, [{ Twiml: twiml }]);
  t.same(
    s.requests.filter((r) => r.path.endsWith(`/${b.sid}.json`)).map((r) => r.specErrors),
    [[]],
  );

  await t.rejects(client.calls(a.sid).update({ twiml }), { status: 400, code: 21220 }, 'a finished call cannot be redirected');
  await t.rejects(client.calls(`CA${'0'.repeat(32)}`).update({ status: 'canceled' }), { status: 404, code: 20404 });
});

t.test('calls.list by To and startTimeAfter finds the call, and sends StartTime> as the spec names it', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const before = new Date(Date.now() - 1000);
  const call = await client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` });
  await client.calls.create({ to: '+14155550101', from: FROM, url: `${PUBLIC}/v` });

  const found = await client.calls.list({ to: TO, startTimeAfter: before });
  t.same(
    found.map((c) => c.sid),
    [call.sid],
  );
  const listReq = s.requests.at(-1);
  t.equal(listReq?.method, 'GET');
  t.same(listReq?.specErrors, []);
  t.match(listReq?.params, { To: TO, 'StartTime>': before.toISOString().replace(/\.\d{3}Z$/, 'Z') });

  const later = await client.calls.list({ to: TO, startTimeAfter: new Date(Date.now() + 60_000) });
  t.same(later, []);
  const earlier = await client.calls.list({ to: TO, startTimeBefore: new Date(Date.now() - 60_000) });
  t.same(earlier, []);
});

t.test("failNext('create','http500'): the client throws, yet Twilio placed the call", async (t) => {
  const s = await standin(t);
  s.failNext('create', 'http500');
  await t.rejects(twilioClientFor(s).calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` }), { status: 500, code: 20500 });
  t.equal(s.calls.size, 1);
  t.equal([...s.calls.values()][0]?.to, TO);
  // Only the next one fails.
  await twilioClientFor(s).calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` });
  t.equal(s.calls.size, 2);
});

t.test("failNext('create','timeout'): a client with timeoutMs 500 rejects, yet the call exists", async (t) => {
  const s = await standin(t);
  s.failNext('create', 'timeout');
  const client = twilioClientFor(s, { timeoutMs: 500 });
  const started = Date.now();
  await t.rejects(client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` }), { message: /timeout/i });
  t.ok(Date.now() - started < 5000, 'gave up after the client timeout');
  t.equal(s.calls.size, 1);
});

t.test("failNext('create','http400', 2): 21211 twice, nothing created", async (t) => {
  const s = await standin(t);
  s.failNext('create', 'http400', 2);
  const client = twilioClientFor(s);
  await t.rejects(client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` }), { status: 400, code: 21211, moreInfo: 'https://www.twilio.com/docs/errors/21211' });
  await t.rejects(client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` }), { status: 400, code: 21211 });
  t.equal(s.calls.size, 0);
  await client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` });
  t.equal(s.calls.size, 1);
});

t.test('wrong credentials are refused with 401', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s, { authToken: 'f'.repeat(32) });
  await t.rejects(client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` }), { status: 401, code: 20003 });
  t.equal(s.calls.size, 0);
  t.equal(s.requests.length, 1, 'the refused request is recorded too');
});

t.test('signedPost signs as Twilio does: validateRequest accepts it over the URL it signs, the one posted to or, behind a proxy, the public one', async (t) => {
  const authToken = 'a'.repeat(32);
  const seen: { signature: string | undefined; body: string; contentType: string | undefined; path: string | undefined; host: string | undefined }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ signature: req.headers['x-twilio-signature'] as string | undefined, body, contentType: req.headers['content-type'], path: req.url, host: req.headers.host });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/twilio/status?a=1`;
  const params = { CallSid: `CA${'1'.repeat(32)}`, CallStatus: 'in-progress', SequenceNumber: '2', AccountSid: `AC${'2'.repeat(32)}` };

  const result = await signedPost(url, params, authToken);
  t.same(result, { status: 200, body: '<Response/>', contentType: 'text/xml' });
  const [got] = seen;
  t.equal(got?.path, '/webhooks/twilio/status?a=1');
  t.equal(got?.contentType, 'application/x-www-form-urlencoded');
  const received = Object.fromEntries(new URLSearchParams(got?.body ?? ''));
  t.same(received, params);
  t.ok(twilio.validateRequest(authToken, got?.signature ?? '', url, received), 'accepted with the auth token');
  t.notOk(twilio.validateRequest('b'.repeat(32), got?.signature ?? '', url, received), 'refused with another token');
  t.notOk(twilio.validateRequest(authToken, got?.signature ?? '', url, { ...received, CallStatus: 'completed' }), 'refused when a param changes');
  t.equal(got?.host, new URL(url).host, 'the Host header names the URL posted to');

  // Behind a proxy: Twilio signed the public URL, the request arrives elsewhere with a rewritten Host.
  const publicUrl = `${PUBLIC}/webhooks/twilio/status?a=1`;
  await signedPost(url, params, authToken, { signedUrl: publicUrl, host: 'desk-internal:8080' });
  const proxied = seen[1];
  t.equal(proxied?.host, 'desk-internal:8080', 'the Host header as given');
  t.equal(proxied?.path, '/webhooks/twilio/status?a=1');
  t.ok(twilio.validateRequest(authToken, proxied?.signature ?? '', publicUrl, params), 'signed over the public URL');
  t.notOk(twilio.validateRequest(authToken, proxied?.signature ?? '', url, params), 'not over the URL it was posted to');
});
