import t from 'tap';
import { ConfigError, loadConfig } from './index.js';

t.test('an empty environment gives the documented defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.databaseUrl, undefined);
  t.equal(c.dataDir, '.data');
  t.equal(c.port, 8080);
  t.equal(c.publicBaseUrl, 'http://localhost:8080');
  t.same(c.roles, ['api', 'counter', 'notifier', 'enforcer', 'intake']);
  t.same(c.intake, { smtpPort: 2525, maxMessageBytes: 10 * 1024 * 1024, tls: undefined, stampSecret: undefined, retentionDays: 90, maxConnections: 20 });
  t.equal(c.resolutionTimeoutSeconds, 3600);
  t.equal(c.callRingSeconds, 30);
  t.equal(c.callResultTimeoutSeconds, 300);
  t.equal(c.dedupeWindowSeconds, 3600);
  t.equal(c.countsRetentionDays, 30);
  t.same(c.deadLetters, { retentionDays: 30, max: 100_000 });
  t.equal(c.callsPerNumberPerHour, 4);
  t.equal(c.smsPerNumberPerHour, 10);
  t.equal(c.kafka, undefined);
  t.equal(c.twilio, undefined);
  t.equal(c.smtp, undefined);
});

t.test('a bad value names the variable and what is wrong', async (t) => {
  const err = t.throws(() => loadConfig({ PORT: 'eighty', ROLES: 'api,cook', RESOLUTION_TIMEOUT_SECONDS: '-5', DATABASE_URL: 'mysql://x' })) as ConfigError;
  t.type(err, ConfigError);
  const text = err.message;
  t.match(text, /PORT: /);
  t.match(text, /ROLES: .*one of api, counter, notifier, enforcer/);
  t.match(text, /RESOLUTION_TIMEOUT_SECONDS: must be greater than 0/);
  t.match(text, /DATABASE_URL: must be a URL starting with postgres:\/\//);
  t.throws(() => loadConfig({ SMS_PER_NUMBER_PER_HOUR: '0' }), /SMS_PER_NUMBER_PER_HOUR: must be at least 1/);
  t.throws(() => loadConfig({ SMS_PER_NUMBER_PER_HOUR: 'ten' }), /SMS_PER_NUMBER_PER_HOUR: must be a whole number of messages/);
});

t.test('Twilio credentials must come together', async (t) => {
  t.throws(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' }), /TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER must be set together/);
});

t.test('the intake: STARTTLS needs both files, the stamp secret at least 16 characters, a sane size limit', async (t) => {
  t.same(loadConfig({ INTAKE_TLS_CERT: '/etc/intake/cert.pem', INTAKE_TLS_KEY: '/etc/intake/key.pem' }).intake.tls, { certFile: '/etc/intake/cert.pem', keyFile: '/etc/intake/key.pem' });
  t.throws(() => loadConfig({ INTAKE_TLS_CERT: '/etc/intake/cert.pem' }), /INTAKE_TLS_CERT and INTAKE_TLS_KEY must be set together/);
  t.throws(() => loadConfig({ TENANT_STAMP_SECRET: 'short' }), /TENANT_STAMP_SECRET: must be at least 16 characters/);
  t.throws(() => loadConfig({ INTAKE_MAX_MESSAGE_BYTES: '100' }), /INTAKE_MAX_MESSAGE_BYTES: must be at least 10240/);
  t.throws(() => loadConfig({ COMPLAINT_RETENTION_DAYS: '7' }), /COMPLAINT_RETENTION_DAYS: must be at least 8/);
  t.throws(() => loadConfig({ INTAKE_MAX_CONNECTIONS: '2' }), /INTAKE_MAX_CONNECTIONS: must be at least 4/);
  t.throws(() => loadConfig({ DEAD_LETTERS_MAX: '10' }), /DEAD_LETTERS_MAX: must be at least 1000/);
  t.throws(() => loadConfig({ DEAD_LETTER_RETENTION_DAYS: '0' }), /DEAD_LETTER_RETENTION_DAYS: must be at least 1/);
  t.equal(loadConfig({ INTAKE_SMTP_PORT: '0' }).intake.smtpPort, 0, '0: a free port');
});

t.test('TWILIO_MESSAGING_SERVICE_SID: an MG SID, used with the Twilio account', async (t) => {
  const twilio = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'secret', TWILIO_FROM_NUMBER: '+15005550006' };
  const sid = `MG${'0a'.repeat(16)}`;
  t.equal(loadConfig({ ...twilio, TWILIO_MESSAGING_SERVICE_SID: sid }).twilio?.messagingServiceSid, sid);
  t.equal(loadConfig(twilio).twilio?.messagingServiceSid, undefined, 'unset: SMS from TWILIO_FROM_NUMBER');
  t.throws(() => loadConfig({ ...twilio, TWILIO_MESSAGING_SERVICE_SID: 'PN123' }), /TWILIO_MESSAGING_SERVICE_SID: must be a Messaging Service SID/);
  t.throws(() => loadConfig({ TWILIO_MESSAGING_SERVICE_SID: sid }), /TWILIO_MESSAGING_SERVICE_SID: needs TWILIO_ACCOUNT_SID/);
});

t.test('roles, URLs and SMTP are parsed', async (t) => {
  const c = loadConfig({ ROLES: 'api, notifier,api', PUBLIC_BASE_URL: 'https://abuse.example/', SMTP_URL: 'smtp://u:p@127.0.0.1:2525', PORT: '9000' });
  t.same(c.roles, ['api', 'notifier']);
  t.equal(c.publicBaseUrl, 'https://abuse.example');
  t.same(c.smtp, { url: 'smtp://u:p@127.0.0.1:2525', from: 'abuse-desk <abuse-desk@localhost>' });
});

t.test('the dedupe window and the counts retention are bounded, and the old retention variable is refused by name', async (t) => {
  t.match(loadConfig({ VERDICT_DEDUPE_WINDOW_SECONDS: '600', COUNTS_RETENTION_DAYS: '90' }), { dedupeWindowSeconds: 600, countsRetentionDays: 90 });
  t.throws(() => loadConfig({ VERDICT_DEDUPE_WINDOW_SECONDS: '30' }), /VERDICT_DEDUPE_WINDOW_SECONDS: must be at least 60 seconds/);
  t.throws(() => loadConfig({ COUNTS_RETENTION_DAYS: '7' }), /COUNTS_RETENTION_DAYS: must be at least 29: the surge baseline/);
  t.throws(() => loadConfig({ VERDICT_DEDUPE_RETENTION_SECONDS: '604800' }), /VERDICT_DEDUPE_RETENTION_SECONDS: is no longer read: set VERDICT_DEDUPE_WINDOW_SECONDS/);
});

t.test('OIDC_ROLE_MAP is a comma list of claim-value=role pairs, or a JSON object for values with commas', async (t) => {
  const oidc = { OIDC_ISSUER_URL: 'https://id.example.com/realms/mail', OIDC_CLIENT_ID: 'abuse-desk', OIDC_CLIENT_SECRET: 'client-secret-value' };
  t.same(loadConfig({ ...oidc, OIDC_ROLE_MAP: 'ops=admin, support=agent' }).oidc?.roleMap, [
    { value: 'ops', role: 'admin' },
    { value: 'support', role: 'agent' },
  ]);
  const dn = 'CN=Abuse Agents,OU=Groups,DC=example,DC=com';
  t.same(loadConfig({ ...oidc, OIDC_ROLE_MAP: JSON.stringify({ [dn]: 'agent', 'CN=Mail Admins,OU=Groups,DC=example,DC=com': 'admin' }) }).oidc?.roleMap, [
    { value: dn, role: 'agent' },
    { value: 'CN=Mail Admins,OU=Groups,DC=example,DC=com', role: 'admin' },
  ], 'a JSON object keeps the commas of LDAP group names');
  t.throws(() => loadConfig({ ...oidc, OIDC_ROLE_MAP: '{"CN=x,DC=y": agent}' }), /OIDC_ROLE_MAP: starts with \{ but is not a JSON object/);
  t.throws(() => loadConfig({ ...oidc, OIDC_ROLE_MAP: '{"CN=x,DC=y": "root"}' }), /OIDC_ROLE_MAP/, 'a role other than admin or agent is refused');
  t.throws(() => loadConfig({ ...oidc, OIDC_ROLE_MAP: '{}' }), /OIDC_ROLE_MAP: must map at least one claim value to a role/);
});

t.test('OIDC_SIGN_OUT_AT_PROVIDER is off unless set, and takes true or false', async (t) => {
  const oidc = { OIDC_ISSUER_URL: 'https://id.example.com/realms/mail', OIDC_CLIENT_ID: 'abuse-desk', OIDC_CLIENT_SECRET: 'client-secret-value' };
  t.equal(loadConfig(oidc).oidc?.signOutAtProvider, false);
  t.equal(loadConfig({ ...oidc, OIDC_SIGN_OUT_AT_PROVIDER: 'true' }).oidc?.signOutAtProvider, true);
  t.equal(loadConfig({ ...oidc, OIDC_SIGN_OUT_AT_PROVIDER: '0' }).oidc?.signOutAtProvider, false);
  t.throws(() => loadConfig({ ...oidc, OIDC_SIGN_OUT_AT_PROVIDER: 'sure' }), /OIDC_SIGN_OUT_AT_PROVIDER: must be true or false/);
});
