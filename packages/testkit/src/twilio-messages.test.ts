import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import twilio from 'twilio';
import { signedPost } from './twilio-callbacks.js';
import { twilioClientFor } from './twilio-client.js';
import { inboundMessageParams, MESSAGING_SERVICE_SENDER, messageStatusParams, segmentsOf } from './twilio-messages.js';
import { messageOperations, responseProblemsOf } from './twilio-openapi.js';
import { startTwilioStandin, type TwilioStandin } from './twilio-standin.js';

const TO = '+14155550100';
const FROM = '+14155550199';
const SERVICE = `MG${'a1'.repeat(16)}`;
const PUBLIC = 'https://desk.example';

async function standin(t: { teardown(fn: () => unknown): void }): Promise<TwilioStandin> {
  const s = await startTwilioStandin();
  t.teardown(() => s.close());
  return s;
}

/** A request sent as is (twilio-node checks required parameters itself and sends only those it knows). */
async function send(s: TwilioStandin, method: 'GET' | 'POST', path: string, pairs: [string, string][] = [], authToken = s.authToken): Promise<{ status: number; body: any }> {
  const form = new URLSearchParams(pairs);
  const url = `${s.baseUrl}/2010-04-01/Accounts/${s.accountSid}${path}${method === 'GET' && pairs.length > 0 ? `?${form}` : ''}`;
  const res = await fetch(url, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${s.accountSid}:${authToken}`).toString('base64')}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(method === 'POST' ? { body: form } : {}),
  });
  return { status: res.status, body: await res.json() };
}

const VALID: [string, string][] = [
  ['To', TO],
  ['From', FROM],
  ['Body', 'Ticket 42 needs you'],
];
const without = (name: string) => VALID.filter(([k]) => k !== name);

t.test('the real client sends a message from a number: Twilio-shaped JSON, recorded as sent, conforming to the spec', async (t) => {
  const s = await standin(t);
  const before = Date.now();
  const m = await twilioClientFor(s).messages.create({ to: TO, from: FROM, body: 'Ticket 42 needs you', statusCallback: `${PUBLIC}/webhooks/twilio/sms-status?a=1` });

  t.match(m.sid, /^SM[0-9a-f]{32}$/);
  t.equal(m.accountSid, s.accountSid);
  t.equal(m.status, 'queued');
  t.equal(m.to, TO);
  t.equal(m.from, FROM);
  t.equal(m.body, 'Ticket 42 needs you');
  t.equal(m.numSegments, '1');
  t.equal(m.numMedia, '0');
  t.equal(m.messagingServiceSid, null);
  t.equal(m.direction, 'outbound-api');
  t.equal(m.apiVersion, '2010-04-01');
  t.equal(m.price, null);
  t.equal(m.priceUnit, 'USD');
  t.equal(m.errorCode, null);
  t.equal(m.errorMessage, null);
  t.equal(m.uri, `/2010-04-01/Accounts/${s.accountSid}/Messages/${m.sid}.json`);
  t.same(m.subresourceUris, {
    media: `/2010-04-01/Accounts/${s.accountSid}/Messages/${m.sid}/Media.json`,
    feedback: `/2010-04-01/Accounts/${s.accountSid}/Messages/${m.sid}/Feedback.json`,
  });
  for (const d of [m.dateCreated, m.dateUpdated, m.dateSent]) {
    t.ok(d instanceof Date && Math.abs(d.getTime() - before) < 5000, `${d} parses as RFC 2822 and is now`);
  }

  t.equal(s.requests.length, 1);
  t.match(s.requests[0], { method: 'POST', path: `/2010-04-01/Accounts/${s.accountSid}/Messages.json`, specErrors: [] });
  t.match(s.messages.get(m.sid), {
    sid: m.sid,
    to: TO,
    from: FROM,
    messagingServiceSid: null,
    body: 'Ticket 42 needs you',
    status: 'queued',
    params: { To: TO, From: FROM, Body: 'Ticket 42 needs you', StatusCallback: `${PUBLIC}/webhooks/twilio/sms-status?a=1` },
  });
  t.ok(s.messages.get(m.sid)?.createdAt instanceof Date);
});

t.test('the real client sends through a messaging service: accepted, from null and num_segments 0 until Twilio picks a sender', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const m = await client.messages.create({ to: TO, messagingServiceSid: SERVICE, body: 'Ticket 42 needs you' });
  t.match(m.sid, /^SM[0-9a-f]{32}$/);
  t.equal(m.status, 'accepted');
  t.equal(m.messagingServiceSid, SERVICE);
  t.equal(m.from, null);
  t.equal(m.numSegments, '0', 'the spec: num_segments is initially 0 for messages sent via a Messaging Service');
  t.equal(m.to, TO);
  t.equal(m.body, 'Ticket 42 needs you');
  t.match(s.messages.get(m.sid), { from: null, messagingServiceSid: SERVICE, status: 'accepted', numSegments: 1 });

  const asFrom = await client.messages.create({ to: TO, from: SERVICE, body: 'hi' });
  t.match(asFrom, { status: 'accepted', from: null, messagingServiceSid: SERVICE }, 'an MG SID in From is taken as the service, as Twilio does');
  const both = await client.messages.create({ to: TO, from: FROM, messagingServiceSid: SERVICE, body: 'hi' });
  t.match(both, { status: 'accepted', from: FROM, messagingServiceSid: SERVICE, numSegments: '1' });
});

t.test("every answer has exactly the fields and types of the spec's CreateMessage, ListMessage and FetchMessage responses", async (t) => {
  const s = await standin(t);
  const ops = messageOperations();
  const fromNumber = await send(s, 'POST', '/Messages.json', VALID);
  const viaService = await send(s, 'POST', '/Messages.json', [['To', TO], ['MessagingServiceSid', SERVICE], ['MediaUrl', `${PUBLIC}/a.png`]]);
  t.equal(fromNumber.status, 201);
  t.equal(viaService.status, 201);
  t.same(responseProblemsOf(ops, 'create', 201, fromNumber.body), []);
  t.same(responseProblemsOf(ops, 'create', 201, viaService.body), []);
  const list = await send(s, 'GET', '/Messages.json', [['PageSize', '1']]);
  t.same(responseProblemsOf(ops, 'list', 200, list.body), []);
  const fetched = await send(s, 'GET', `/Messages/${fromNumber.body.sid}.json`);
  t.same(responseProblemsOf(ops, 'fetch', 200, fetched.body), []);
  t.same(fetched.body, fromNumber.body, 'fetch answers what create answered');
  // The check itself finds a departure.
  t.match(responseProblemsOf(ops, 'fetch', 200, { ...fetched.body, status: 'sending-ish', extra: 1 }), [/status="sending-ish" is not one of/, /extra is not in the spec/]);
  t.match(responseProblemsOf(ops, 'fetch', 200, { ...fetched.body, date_sent: new Date().toISOString() }), [/date_sent=.* is not RFC 2822/]);
});

t.test('num_segments counts GSM-7 (160, then 153 a part; extension characters twice) and UCS-2 (70, then 67 a part)', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const cases: [string, string][] = [
    ['a'.repeat(160), '1'],
    ['a'.repeat(161), '2'],
    ['a'.repeat(306), '2'],
    ['a'.repeat(307), '3'],
    ['€'.repeat(80), '1'],
    ['€'.repeat(81), '2'],
    ['é'.repeat(160), '1'],
    ['ж'.repeat(70), '1'],
    ['ж'.repeat(71), '2'],
    ['ж'.repeat(134), '2'],
    ['ж'.repeat(135), '3'],
    [`${'a'.repeat(69)}😀`, '2'],
  ];
  for (const [body, segments] of cases) {
    const m = await client.messages.create({ to: TO, from: FROM, body });
    t.equal(m.numSegments, segments, `${JSON.stringify(body.slice(0, 3))}… × ${body.length}`);
  }
  t.same(segmentsOf('Ticket 42 {urgent}'), { encoding: 'GSM-7', segments: 1 });
  t.same(segmentsOf('Тикет'), { encoding: 'UCS-2', segments: 1 });
});

t.test('messages.list filters by To and DateSent> / DateSent< / DateSent as twilio-node sends them, newest first', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const before = new Date(Date.now() - 1000);
  const first = await client.messages.create({ to: TO, from: FROM, body: 'one' });
  const second = await client.messages.create({ to: TO, messagingServiceSid: SERVICE, body: 'two' });
  await client.messages.create({ to: '+14155550101', from: FROM, body: 'other' });

  const found = await client.messages.list({ to: TO, dateSentAfter: before });
  t.same(
    found.map((m) => m.sid),
    [second.sid, first.sid],
  );
  const listReq = s.requests.at(-1);
  t.same(listReq?.specErrors, []);
  t.match(listReq?.params, { To: TO, 'DateSent>': before.toISOString().replace(/\.\d{3}Z$/, 'Z') });

  t.same(await client.messages.list({ to: TO, dateSentAfter: new Date(Date.now() + 60_000) }), []);
  t.same(await client.messages.list({ to: TO, dateSentBefore: new Date(Date.now() - 60_000) }), []);
  t.equal((await client.messages.list({ to: TO, dateSentBefore: new Date(Date.now() + 60_000) })).length, 2);
  t.same(
    (await client.messages.list({ from: FROM })).map((m) => m.body),
    ['other', 'one'],
    'From matches the sender; a message through a service has none yet',
  );

  const today = new Date().toISOString().slice(0, 10);
  const onDay = await send(s, 'GET', '/Messages.json', [['DateSent', today], ['To', TO]]);
  t.equal(onDay.body.messages.length, 2, 'DateSent=YYYY-MM-DD is the whole day');
  const rfc = await send(s, 'GET', '/Messages.json', [['DateSent>', 'Wed, 19 Jun 2019 22:04:00 -0000']]);
  t.equal(rfc.status, 200);
  t.equal(rfc.body.messages.length, 3, "an RFC 2822 date (one of the spec's examples) is taken");
  const bad = await send(s, 'GET', '/Messages.json', [['DateSent>', 'yesterday']]);
  t.match(bad, { status: 400, body: { code: 400, message: /DateSent>="yesterday" is not a date/ } });
});

t.test('a list pages with PageSize and Page as Twilio does, and the real client follows next_page_uri', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const sids: string[] = [];
  for (const body of ['a', 'b', 'c']) sids.push((await client.messages.create({ to: TO, from: FROM, body })).sid);

  const all = await client.messages.list({ to: TO, pageSize: 2 });
  t.same(
    all.map((m) => m.sid),
    [...sids].reverse(),
  );
  const gets = s.requests.filter((r) => r.method === 'GET');
  t.equal(gets.length, 2, 'two pages were fetched');
  t.match(gets[1]?.params, { To: TO, PageSize: '2', Page: '1' });
  t.ok(gets.every((r) => r.specErrors.length === 0));

  const sameMs = new Date();
  for (const m of s.messages.values()) m.createdAt = sameMs;
  t.same(
    (await client.messages.list({ to: TO })).map((m) => m.sid),
    [...sids].reverse(),
    'of messages made in the same millisecond, the later is listed first',
  );

  const page1 = await send(s, 'GET', '/Messages.json', [['PageSize', '2'], ['Page', '1']]);
  t.match(page1.body, { page: 1, page_size: 2, start: 2, end: 2, next_page_uri: null, previous_page_uri: /Page=0/ });
  t.equal(page1.body.messages.length, 1);
  t.match(await send(s, 'GET', '/Messages.json', [['PageSize', '0']]), { status: 400, body: { message: /PageSize=0 is below the minimum 1/ } });
  t.match(await send(s, 'GET', '/Messages.json', [['PageSize', '1001']]), { status: 400, body: { message: /PageSize=1001 is above the maximum 1000/ } });
  t.match(await send(s, 'GET', '/Messages.json', [['Status', 'queued']]), { status: 400, body: { code: 20001, message: /query parameter Status is not declared/ } }, 'Twilio has no Status filter on messages');
});

t.test('a message is fetched by SID; an unknown SID gets 404 and a query parameter 400', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const m = await client.messages.create({ to: TO, from: FROM, body: 'hi' });
  const fetched = await client.messages(m.sid).fetch();
  t.match(fetched, { sid: m.sid, to: TO, from: FROM, body: 'hi', status: 'queued' });
  const stored = s.messages.get(m.sid);
  if (stored) stored.status = 'delivered';
  t.equal((await client.messages(m.sid).fetch()).status, 'delivered', 'a status the test sets is what Twilio answers');
  await t.rejects(client.messages(`SM${'0'.repeat(32)}`).fetch(), { status: 404, code: 20404 });
  t.match(await send(s, 'GET', `/Messages/${m.sid}.json`, [['Foo', '1']]), { status: 400, body: { code: 20001, message: /FetchMessage: takes no query parameters/ } });
  t.match(await send(s, 'POST', `/Messages/${m.sid}.json`, [['Body', '']]), { status: 405, body: { code: 20004 } }, 'UpdateMessage is not served');
});

t.test("a create breaking Twilio's rules gets the code Twilio documents, and creates nothing", async (t) => {
  const s = await standin(t);
  const cases: { what: string; pairs: [string, string][]; code: number; message: RegExp; specError: boolean }[] = [
    { what: 'no To', pairs: without('To'), code: 21604, message: /A 'To' phone number is required/, specError: true },
    { what: 'an empty To', pairs: [...without('To'), ['To', '']], code: 21604, message: /A 'To' phone number is required/, specError: false },
    { what: 'neither From nor MessagingServiceSid', pairs: without('From'), code: 21603, message: /A 'From' phone number is required/, specError: false },
    { what: 'none of Body, MediaUrl, ContentSid', pairs: without('Body'), code: 21602, message: /Message body is required/, specError: false },
    { what: 'an empty Body', pairs: [...without('Body'), ['Body', '']], code: 21602, message: /Message body is required/, specError: false },
    { what: 'a Body of 1601 characters', pairs: [...without('Body'), ['Body', 'a'.repeat(1601)]], code: 21617, message: /exceeds the 1600 character limit/, specError: false },
    { what: 'a MediaUrl without http(s)', pairs: [...VALID, ['MediaUrl', `${PUBLIC}/a.png`], ['MediaUrl', 'desk.example/b.png']], code: 21620, message: /Invalid media URL\(s\): desk\.example\/b\.png$/, specError: false },
    { what: 'a misspelt parameter', pairs: [...VALID, ['StatusCallbak', `${PUBLIC}/s`]], code: 20001, message: /parameter StatusCallbak is not declared/, specError: true },
    { what: 'a MessagingServiceSid not MG…', pairs: [...without('From'), ['MessagingServiceSid', 'PN0123']], code: 21705, message: /MessagingServiceSid="PN0123" does not match/, specError: true },
    { what: 'a relative StatusCallback', pairs: [...VALID, ['StatusCallback', '/webhooks/status']], code: 21609, message: /StatusCallback="\/webhooks\/status" is not an absolute/, specError: true },
    { what: 'a RiskCheck outside the enum', pairs: [...VALID, ['RiskCheck', 'enabled']], code: 400, message: /RiskCheck="enabled" is not one of enable, disable/, specError: true },
    { what: 'a ScheduleType outside the enum', pairs: [...VALID, ['ScheduleType', 'later']], code: 35126, message: /ScheduleType="later" is not one of fixed/, specError: true },
    { what: 'an Attempt that is not an integer', pairs: [...VALID, ['Attempt', 'two']], code: 400, message: /Attempt="two" is not an integer/, specError: true },
    { what: 'a MaxPrice that is not a number', pairs: [...VALID, ['MaxPrice', 'cheap']], code: 400, message: /MaxPrice="cheap" is not a number/, specError: true },
    { what: 'a SendAt that is no date', pairs: [...VALID, ['SendAt', 'soon']], code: 400, message: /SendAt="soon" is not a date/, specError: true },
    { what: 'ScheduleType fixed without SendAt', pairs: [...without('From'), ['MessagingServiceSid', SERVICE], ['ScheduleType', 'fixed']], code: 35111, message: /SendAt timestamp is missing/, specError: false },
    { what: 'ScheduleType fixed without a messaging service', pairs: [...VALID, ['ScheduleType', 'fixed'], ['SendAt', '2030-01-01T00:00:00Z']], code: 35118, message: /MessagingServiceSid is required to schedule/, specError: false },
  ];
  for (const c of cases) {
    const res = await send(s, 'POST', '/Messages.json', c.pairs);
    t.equal(res.status, 400, c.what);
    t.same(Object.keys(res.body).sort(), ['code', 'message', 'more_info', 'status'], `${c.what}: Twilio's error body`);
    t.match(res.body, { code: c.code, status: 400, more_info: `https://www.twilio.com/docs/errors/${c.code}`, message: c.message }, c.what);
    t.equal((s.requests.at(-1)?.specErrors.length ?? 0) > 0, c.specError, `${c.what}: ${c.specError ? 'a departure from the spec' : "a rule of Twilio's beyond the spec"}`);
  }
  t.equal(s.messages.size, 0, 'nothing was created');
  t.equal(s.requests.length, cases.length, 'every refused request was recorded');

  const longest = await send(s, 'POST', '/Messages.json', [...without('Body'), ['Body', 'a'.repeat(1600)]]);
  t.match(longest, { status: 201, body: { num_segments: '11' } }, '1600 characters are allowed');
  const mediaOnly = await send(s, 'POST', '/Messages.json', [...without('Body'), ['MediaUrl', `${PUBLIC}/a.png`], ['MediaUrl', `${PUBLIC}/b.png`]]);
  t.match(mediaOnly, { status: 201, body: { sid: /^MM[0-9a-f]{32}$/, num_media: '2', body: '' } }, 'MediaUrl alone is content enough');
  t.same(s.requests.at(-1)?.params.MediaUrl, [`${PUBLIC}/a.png`, `${PUBLIC}/b.png`]);
  const content = await send(s, 'POST', '/Messages.json', [...without('Body'), ['ContentSid', `HX${'0'.repeat(32)}`]]);
  t.equal(content.status, 201, 'so is a ContentSid');
  t.equal(s.messages.size, 3);
});

t.test('through the real client, a value outside the spec is refused and nothing is created', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  const base = { to: TO, from: FROM, body: 'hi' };
  await t.rejects(client.messages.create({ ...base, contentRetention: 'keep' as unknown as 'retain' }), { status: 400, code: 400, message: /ContentRetention="keep" is not one of retain, discard/ });
  await t.rejects(client.messages.create({ ...base, addressRetention: 'hide' as unknown as 'retain' }), { status: 400, message: /AddressRetention="hide"/ });
  await t.rejects(client.messages.create({ ...base, trafficType: 'paid' as unknown as 'free' }), { status: 400, message: /TrafficType="paid" is not one of free/ });
  await t.rejects(client.messages.create({ ...base, messagingServiceSid: 'MG123' }), { status: 400, code: 21705 });
  await t.rejects(client.messages.create({ ...base, statusCallback: 'desk.example/status' }), { status: 400, code: 21609 });
  await t.rejects(client.messages.create({ ...base, body: 'x'.repeat(1601) }), { status: 400, code: 21617 });
  t.equal(s.messages.size, 0);
});

t.test('a scheduled message through a service is created scheduled, with no date_sent', async (t) => {
  const s = await standin(t);
  const sendAt = new Date(Date.now() + 3_600_000);
  const m = await twilioClientFor(s).messages.create({ to: TO, messagingServiceSid: SERVICE, body: 'later', scheduleType: 'fixed', sendAt });
  t.equal(m.status, 'scheduled');
  t.equal(m.dateSent, null);
  t.equal(s.requests[0]?.params.SendAt, sendAt.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  t.same(await twilioClientFor(s).messages.list({ dateSentAfter: new Date(0) }), [], 'a message not sent matches no DateSent filter');
});

t.test('optOut: a create to a number that replied STOP gets 21610 and creates nothing; optIn undoes it', async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  s.optOut(TO);
  t.ok(s.optedOut.has(TO));
  await t.rejects(client.messages.create({ to: TO, from: FROM, body: 'hi' }), {
    status: 400,
    code: 21610,
    message: 'Attempt to send to unsubscribed recipient',
    moreInfo: 'https://www.twilio.com/docs/errors/21610',
  });
  await t.rejects(client.messages.create({ to: TO, messagingServiceSid: SERVICE, body: 'hi' }), { status: 400, code: 21610 }, 'through a service too');
  t.equal(s.messages.size, 0);
  t.same(s.requests.map((r) => r.specErrors), [[], []], 'the creates conformed to the spec');

  const other = await client.messages.create({ to: '+14155550101', from: FROM, body: 'hi' });
  t.equal(s.messages.get(other.sid)?.to, '+14155550101', 'other numbers still get messages');

  s.optIn(TO);
  t.notOk(s.optedOut.has(TO));
  const again = await client.messages.create({ to: TO, from: FROM, body: 'hi' });
  t.equal(s.messages.get(again.sid)?.to, TO);
  t.equal(s.messages.size, 2);
});

t.test("failNext('message','http500'): the client throws, yet Twilio created the message; only the next create fails", async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  s.failNext('message', 'http500');
  await t.rejects(client.messages.create({ to: TO, from: FROM, body: 'hi' }), { status: 500, code: 20500 });
  t.equal(s.messages.size, 1);
  t.equal([...s.messages.values()][0]?.to, TO);
  await client.messages.create({ to: TO, from: FROM, body: 'hi' });
  t.equal(s.messages.size, 2);
});

t.test("failNext('message','timeout'): a client with timeoutMs 500 rejects, yet the message exists", async (t) => {
  const s = await standin(t);
  s.failNext('message', 'timeout');
  const started = Date.now();
  await t.rejects(twilioClientFor(s, { timeoutMs: 500 }).messages.create({ to: TO, from: FROM, body: 'hi' }), { message: /timeout/i });
  t.ok(Date.now() - started < 5000, 'gave up after the client timeout');
  t.equal(s.messages.size, 1);
});

t.test("failNext('message','http400', 2): 21211 twice, nothing created; refusals and calls use up none", async (t) => {
  const s = await standin(t);
  const client = twilioClientFor(s);
  s.failNext('message', 'http400', 2);
  t.equal((await send(s, 'POST', '/Messages.json', without('Body'))).body.code, 21602, "a create refused by Twilio's rules");
  s.optOut('+14155550109');
  t.equal((await send(s, 'POST', '/Messages.json', [...without('To'), ['To', '+14155550109']])).body.code, 21610, 'a create to an opted-out number');
  const call = await client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` });
  t.equal(s.calls.get(call.sid)?.status, 'queued', 'a call create is not a message create');
  await t.rejects(client.messages.create({ to: TO, from: FROM, body: 'hi' }), { status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${TO}`, moreInfo: 'https://www.twilio.com/docs/errors/21211' });
  await t.rejects(client.messages.create({ to: TO, from: FROM, body: 'hi' }), { status: 400, code: 21211 });
  t.equal(s.messages.size, 0);
  await client.messages.create({ to: TO, from: FROM, body: 'hi' });
  t.equal(s.messages.size, 1);

  s.failNext('create', 'http400');
  await client.messages.create({ to: TO, from: FROM, body: 'hi' });
  t.equal(s.messages.size, 2, "failNext('create') is for calls");
  await t.rejects(client.calls.create({ to: TO, from: FROM, url: `${PUBLIC}/v` }), { code: 21211 });
});

t.test('wrong credentials are refused with 401, another account in the path with 404, and nothing is created', async (t) => {
  const s = await standin(t);
  const wrong = twilioClientFor(s, { authToken: 'f'.repeat(32) });
  await t.rejects(wrong.messages.create({ to: TO, from: FROM, body: 'hi' }), { status: 401, code: 20003 });
  await t.rejects(wrong.messages.list({ to: TO }), { status: 401, code: 20003 });
  t.match(await send(s, 'POST', '/Messages.json', VALID, 'f'.repeat(32)), { status: 401, body: { code: 20003 } });
  const other = twilioClientFor({ ...s, accountSid: `AC${'0'.repeat(32)}` }, { authToken: s.authToken });
  await t.rejects(other.messages.create({ to: TO, from: FROM, body: 'hi' }), { status: 401, code: 20003 }, 'credentials of another account');
  t.equal(s.messages.size, 0);
  t.equal(s.requests.length, 4, 'the refused requests are recorded too');
  const res = await fetch(`${s.baseUrl}/2010-04-01/Accounts/AC${'0'.repeat(32)}/Messages.json`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(VALID),
  });
  t.equal(res.status, 404, "another account's Messages");
  t.equal(s.messages.size, 0);
});

t.test("inboundMessageParams and messageStatusParams are what Twilio POSTs, and signedPost signs them so twilio.validateRequest accepts them", async (t) => {
  const authToken = 'a'.repeat(32);
  const accountSid = `AC${'2'.repeat(32)}`;
  const seen: { signature: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ signature: String(req.headers['x-twilio-signature']), body });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/twilio/sms?a=1`;

  const inbound = inboundMessageParams({ accountSid, from: TO, to: FROM, body: 'STOP', geo: { FromCountry: 'US', ToCountry: 'US' } });
  t.same(Object.keys(inbound).sort(), [
    'AccountSid', 'ApiVersion', 'Body', 'From', 'FromCity', 'FromCountry', 'FromState', 'FromZip', 'MessageSid', 'NumMedia', 'NumSegments',
    'SmsMessageSid', 'SmsSid', 'SmsStatus', 'To', 'ToCity', 'ToCountry', 'ToState', 'ToZip',
  ]);
  t.match(inbound, { AccountSid: accountSid, From: TO, To: FROM, Body: 'STOP', NumMedia: '0', NumSegments: '1', SmsStatus: 'received', ApiVersion: '2010-04-01', FromCountry: 'US', FromCity: '' });
  t.match(inbound.MessageSid, /^SM[0-9a-f]{32}$/);
  t.equal(inbound.SmsSid, inbound.MessageSid);
  t.equal(inbound.SmsMessageSid, inbound.MessageSid);
  t.equal(inboundMessageParams({ accountSid, from: TO, to: FROM, body: 'ж'.repeat(71), messagingServiceSid: SERVICE }).MessagingServiceSid, SERVICE);
  t.equal(inboundMessageParams({ accountSid, from: TO, to: FROM, body: 'ж'.repeat(71) }).NumSegments, '2');

  t.equal((await signedPost(url, inbound, authToken)).status, 200);
  const received = Object.fromEntries(new URLSearchParams(seen[0]?.body ?? ''));
  t.same(received, inbound);
  t.ok(twilio.validateRequest(authToken, seen[0]?.signature ?? '', url, received), 'signed as Twilio signs');

  const s = await standin(t);
  const client = twilioClientFor(s);
  const sent = await client.messages.create({ to: TO, from: FROM, body: 'hi' });
  const direct = s.messages.get(sent.sid);
  if (!direct) throw new Error('not recorded');
  t.same(messageStatusParams(direct, 'sent'), {
    MessageSid: sent.sid,
    SmsSid: sent.sid,
    MessageStatus: 'sent',
    SmsStatus: 'sent',
    AccountSid: s.accountSid,
    From: FROM,
    To: TO,
    ApiVersion: '2010-04-01',
  });
  const doneAt = new Date('2026-03-04T05:06:59Z');
  t.same(messageStatusParams(direct, 'undelivered', 30003, doneAt), {
    MessageSid: sent.sid,
    SmsSid: sent.sid,
    MessageStatus: 'undelivered',
    SmsStatus: 'undelivered',
    AccountSid: s.accountSid,
    From: FROM,
    To: TO,
    ApiVersion: '2010-04-01',
    ErrorCode: '30003',
    RawDlrDoneDate: '2603040506',
  });
  const viaService = s.messages.get((await client.messages.create({ to: TO, messagingServiceSid: SERVICE, body: 'hi' })).sid);
  if (!viaService) throw new Error('not recorded');
  t.match(messageStatusParams(viaService, 'delivered'), { MessagingServiceSid: SERVICE, From: MESSAGING_SERVICE_SENDER, RawDlrDoneDate: /^\d{10}$/ });
  t.notOk('ErrorCode' in messageStatusParams(viaService, 'delivered'));
  viaService.from = '+14155550142';
  t.equal(messageStatusParams(viaService, 'sent').From, '+14155550142', 'the sender a test sets');

  const status = messageStatusParams(direct, 'delivered');
  await signedPost(url, status, authToken);
  t.ok(twilio.validateRequest(authToken, seen[1]?.signature ?? '', url, Object.fromEntries(new URLSearchParams(seen[1]?.body ?? ''))));
});
