// README (configuration, LOG_LEVEL): tokens, passwords and authorization headers are redacted. The process
// is built as main.ts builds it — createLogger, then createRuntime — with its log going to a buffer, and
// requests that carry every kind of secret; none of them may appear in what was logged.
import { Writable } from 'node:stream';
import { loadConfig } from '@abuse-desk/config';
import { issueResolutionToken } from '@abuse-desk/db';
import { contactList, spamBurst } from '@abuse-desk/testkit';
import t from 'tap';
import { createLogger, createRuntime } from './runtime.js';

const SECRETS = {
  adminToken: 'admin-Secret-Token-4f1c9a7e2b',
  smtpPassword: 'sm7p-Pa55w0rd-9d2e',
  twilioAuthToken: 'tw1l1o-auth-token-77a0c3',
  webhookSecret: 'webhook-Secret-e5b8f1',
  wrongBearer: 'guessed-Bearer-Token-0c4d',
};

/** A stream that keeps every line pino writes. */
function logBuffer() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

t.test('tokens, passwords and authorization headers never reach the log', async (t) => {
  const config = loadConfig({
    DATA_DIR: 'memory://',
    ROLES: 'api',
    LOG_LEVEL: 'trace',
    PUBLIC_BASE_URL: 'http://abuse.test',
    ADMIN_TOKEN: SECRETS.adminToken,
    SMTP_URL: `smtp://mailer:${SECRETS.smtpPassword}@127.0.0.1:2525`,
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: SECRETS.twilioAuthToken,
    TWILIO_FROM_NUMBER: '+14155550000',
    ENFORCEMENT_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
    ENFORCEMENT_WEBHOOK_SECRET: SECRETS.webhookSecret,
  });
  const log = logBuffer();
  const logger = createLogger(config, log.stream);
  const rt = await createRuntime(config, logger);
  t.teardown(() => rt.close());
  const { app } = rt;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  // A bearer token on every kind of answer: success, 401, 404, validation error.
  t.equal((await app.inject({ method: 'PUT', url: '/v1/tenants/leaky', headers: as(SECRETS.adminToken), payload: { name: 'Leaky Mail' } })).statusCode, 200);
  t.equal((await app.inject({ method: 'PUT', url: '/v1/tenants/leaky/contacts', headers: as(SECRETS.adminToken), payload: contactList() })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/v1/tenants', headers: as(SECRETS.wrongBearer) })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/v1/tickets/ABU-999999', headers: as(SECRETS.adminToken) })).statusCode, 404);
  t.equal((await app.inject({ method: 'PUT', url: '/v1/tenants/leaky', headers: as(SECRETS.adminToken), payload: { notes: 'no name' } })).statusCode, 400);

  // A token created through the API is shown once, in the reply only.
  const created = await app.inject({ method: 'POST', url: '/v1/tokens', headers: as(SECRETS.adminToken), payload: { name: 'mta', role: 'ingest' } });
  t.equal(created.statusCode, 201);
  const ingestToken: string = created.json().token;
  t.ok(ingestToken);
  const verdicts = await app.inject({ method: 'POST', url: '/v1/verdicts', headers: as(ingestToken), payload: spamBurst('leaky', 60) });
  t.equal(verdicts.statusCode, 200);
  const ticketNumber: string = verdicts.json().ticketsOpened[0];
  const ticket = (await app.inject({ method: 'GET', url: `/v1/tickets/${ticketNumber}`, headers: as(SECRETS.adminToken) })).json();

  // A resolution token in the URL: the page, the form with a bad answer, a form whose text cannot be
  // stored (a NUL byte), an unknown token; and in the body of the endpoint.
  const resolutionToken = await issueResolutionToken(rt.handle.db, ticket.id, new Date());
  const unknownToken = 'unknownResolutionToken-0123456789abcdef';
  const form = (actionsTaken: string) => ({ 'content-type': 'application/x-www-form-urlencoded', payload: new URLSearchParams({ actionsTaken }).toString() });
  t.equal((await app.inject({ method: 'GET', url: `/resolve/${resolutionToken}` })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: `/resolve/${resolutionToken}?utm=mail` })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: `/resolve/${unknownToken}` })).statusCode, 404);
  const short = form('short');
  t.equal((await app.inject({ method: 'POST', url: `/resolve/${resolutionToken}`, headers: { 'content-type': short['content-type'] }, payload: short.payload })).statusCode, 400);
  const nul = form('We reset the password\u0000 of the mailbox.');
  const unstorable = await app.inject({ method: 'POST', url: `/resolve/${resolutionToken}`, headers: { 'content-type': nul['content-type'] }, payload: nul.payload });
  t.ok(unstorable.statusCode >= 400, `a text that cannot be stored is refused (${unstorable.statusCode})`);
  t.equal((await app.inject({ method: 'POST', url: '/v1/resolutions', payload: { ticketNumber, token: resolutionToken, actionsTaken: 'short' } })).statusCode, 400);
  t.equal((await app.inject({ method: 'POST', url: '/v1/resolutions', payload: { ticketNumber, token: unknownToken, actionsTaken: 'We reset every mailbox password.' } })).statusCode, 404);

  // The logger itself, handed objects shaped like what code might log by mistake.
  logger.info({ headers: { authorization: `Bearer ${SECRETS.adminToken}` }, token: ingestToken, config: { password: SECRETS.smtpPassword, smtpUrl: config.smtp!.url, authToken: SECRETS.twilioAuthToken, secret: SECRETS.webhookSecret } }, 'test.secrets_in_objects');

  const text = log.text();
  t.match(text, /incoming request/, 'requests were logged');
  t.match(text, /\/resolve\/\[redacted\]/, 'resolution URLs were logged, redacted');
  t.match(text, /test\.secrets_in_objects/);
  for (const [name, secret] of Object.entries({ ...SECRETS, ingestToken, resolutionToken, unknownToken })) {
    t.notOk(text.includes(secret), `${name} is not in the log`, { found: text.split('\n').filter((line) => line.includes(secret)) });
  }
  t.notMatch(text, /Bearer [A-Za-z0-9_-]{8,}/, 'no bearer credential at all');
});
