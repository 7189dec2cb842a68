// The service's configuration (SPEC §3): read from the environment once, validated with zod,
// and passed down. Nothing else in the code base reads process.env.
import { z } from 'zod';

export const ROLE_NAMES = ['api', 'counter', 'notifier', 'enforcer', 'intake'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string())
  .optional()
  .transform((s) => (s === undefined || s === '' ? undefined : s));

const seconds = (dflt: number) =>
  z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').positive('must be greater than 0').default(dflt);

const url = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
  );

const isLoopback = (host: string) => ['localhost', '127.0.0.1', '[::1]'].includes(host);

const envSchema = z
  .object({
    DATABASE_URL: url(['postgres:', 'postgresql:']),
    DATA_DIR: z.string().min(1).default('.data'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535, 'must be a port number (0–65535)').default(8080),
    PUBLIC_BASE_URL: url(['http:', 'https:']),
    ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
    ROLES: z
      .string()
      .default(ROLE_NAMES.join(','))
      .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
      .pipe(z.array(z.enum(ROLE_NAMES, { error: `each role must be one of ${ROLE_NAMES.join(', ')}` })).min(1, 'must name at least one role')),
    KAFKA_BROKERS: optionalString,
    KAFKA_VERDICT_TOPIC: z.string().min(1).default('outbound-verdicts'),
    KAFKA_CONTROL_TOPIC: z.string().min(1).default('outbound-control'),
    KAFKA_GROUP_ID: z.string().min(1).default('abuse-desk-counter'),
    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM_NUMBER: optionalString,
    TWILIO_API_BASE_URL: url(['http:', 'https:']),
    TWILIO_MESSAGING_SERVICE_SID: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Messaging Service SID: MG followed by 32 hex digits')
      .optional(),
    INTAKE_SMTP_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535, 'must be a port number (0–65535)').default(2525),
    INTAKE_TLS_CERT: optionalString,
    INTAKE_TLS_KEY: optionalString,
    INTAKE_MAX_MESSAGE_BYTES: z.coerce
      .number({ error: 'must be a number of bytes' })
      .int('must be a whole number of bytes')
      .min(10_240, 'must be at least 10240 (a report with its original message)')
      .max(100 * 1024 * 1024, 'must be at most 104857600 (100 MiB)')
      .default(10 * 1024 * 1024),
    INTAKE_MAX_CONNECTIONS: z.coerce
      .number({ error: 'must be a whole number of connections' })
      .int('must be a whole number of connections')
      .min(4, 'must be at least 4 (a quarter of it is the limit per address)')
      .max(10_000, 'must be at most 10000')
      .default(20),
    COMPLAINT_RETENTION_DAYS: z.coerce
      .number({ error: 'must be a number of days' })
      .int('must be a whole number of days')
      .min(8, 'must be at least 8: a complaint window may be up to 7 days, and its reports must still be there to count')
      .max(3650, 'must be at most 3650')
      .default(90),
    TENANT_STAMP_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
    SMTP_URL: url(['smtp:', 'smtps:']),
    EMAIL_FROM: optionalString,
    ENFORCEMENT_WEBHOOK_URL: url(['http:', 'https:']),
    ENFORCEMENT_WEBHOOK_SECRET: optionalString,
    RESOLUTION_TIMEOUT_SECONDS: seconds(3600),
    CALL_RING_SECONDS: seconds(30),
    CALL_RESULT_TIMEOUT_SECONDS: seconds(300),
    VERDICT_DEDUPE_WINDOW_SECONDS: seconds(3600)
      .refine((s) => s >= 60, 'must be at least 60 seconds (keys are kept by the minute)')
      .refine((s) => s <= 7 * 86400, 'must be at most 604800 (7 days)'),
    // Replaced by VERDICT_DEDUPE_WINDOW_SECONDS: refused rather than read with another meaning.
    VERDICT_DEDUPE_RETENTION_SECONDS: optionalString,
    COUNTS_RETENTION_DAYS: z.coerce
      .number({ error: 'must be a number of days' })
      .int('must be a whole number of days')
      .min(29, 'must be at least 29: the surge baseline reads up to 28 days before its window')
      .default(30),
    DEAD_LETTER_RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(1, 'must be at least 1').max(3650, 'must be at most 3650').default(30),
    DEAD_LETTERS_MAX: z.coerce
      .number({ error: 'must be a number of dead letters' })
      .int('must be a whole number of dead letters')
      .min(1000, 'must be at least 1000')
      .max(100_000_000, 'must be at most 100000000')
      .default(100_000),
    TWILIO_CALLS_PER_SECOND: z.coerce
      .number({ error: 'must be a whole number of calls per second' })
      .int('must be a whole number of calls per second')
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000')
      .default(1),
    CALLS_PER_NUMBER_PER_HOUR: z.coerce.number({ error: 'must be a whole number of calls' }).int('must be a whole number of calls').min(1, 'must be at least 1').default(4),
    SMS_PER_NUMBER_PER_HOUR: z.coerce.number({ error: 'must be a whole number of messages' }).int('must be a whole number of messages').min(1, 'must be at least 1').default(10),
    DIGEST_MINUTES: z.coerce
      .number({ error: 'must be a whole number of minutes' })
      .int('must be a whole number of minutes')
      .min(0, 'must be 0 (no digests) or more')
      .max(1440, 'must be at most 1440 (a day)')
      .default(5),
    TRUST_PROXY: optionalString
      .transform((s) => (s === undefined ? [] : s.split(',').map((p) => p.trim()).filter(Boolean)))
      .pipe(z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'must be a comma list of IP addresses or CIDR ranges (e.g. 10.0.0.0/8,127.0.0.1)' }))),
    OIDC_ISSUER_URL: url(['http:', 'https:']).refine((v) => v === undefined || new URL(v).protocol === 'https:' || isLoopback(new URL(v).hostname), {
      message: 'must be an https URL (http only for a provider on this machine: localhost, 127.0.0.1, ::1)',
    }),
    OIDC_CLIENT_ID: optionalString,
    OIDC_CLIENT_SECRET: optionalString,
    OIDC_ROLE_CLAIM: z.string().trim().min(1, 'must name a claim').default('groups'),
    OIDC_ROLE_MAP: z
      .string()
      .default('abuse-desk-admins=admin,abuse-desk-agents=agent')
      .transform((s, ctx) => {
        // A JSON object for claim values holding commas (LDAP/AD group DNs); else the comma list.
        if (s.trim().startsWith('{')) {
          try {
            const o: unknown = JSON.parse(s);
            if (o && typeof o === 'object' && !Array.isArray(o)) return Object.entries(o).map(([value, role]) => ({ value, role: typeof role === 'string' ? role.trim() : '' }));
          } catch {
            // reported below
          }
          ctx.addIssue({ code: 'custom', message: 'starts with { but is not a JSON object of claim value to role (e.g. {"CN=Abuse Agents,OU=Groups,DC=example,DC=com": "agent"})' });
          return z.NEVER;
        }
        return s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => {
            const at = p.lastIndexOf('=');
            return { value: at > 0 ? p.slice(0, at).trim() : '', role: at > 0 ? p.slice(at + 1).trim() : '' };
          });
      })
      .pipe(
        z
          .array(z.object({ value: z.string().min(1), role: z.enum(['admin', 'agent']) }), {
            error: 'must be a comma list of claim-value=role pairs, role admin or agent (e.g. abuse-desk-admins=admin,abuse-desk-agents=agent), or a JSON object of claim value to role',
          })
          .min(1, 'must map at least one claim value to a role'),
      ),
    OIDC_SCOPES: z
      .string()
      .default('openid email profile')
      .transform((s) => s.split(/[\s,]+/).filter(Boolean))
      .refine((s) => s.includes('openid'), 'must include openid'),
    OIDC_SIGN_OUT_AT_PROVIDER: z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
    SESSION_IDLE_SECONDS: seconds(1800).refine((s) => s >= 2, 'must be at least 2 seconds'),
    SESSION_MAX_SECONDS: seconds(12 * 3600),
    WORK_LEASE_SECONDS: seconds(30).refine((s) => s >= 2, 'must be at least 2 seconds'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM_NUMBER];
    if (twilio.some(Boolean) && !twilio.every(Boolean)) {
      ctx.addIssue({ code: 'custom', path: ['TWILIO_ACCOUNT_SID'], message: 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER must be set together' });
    }
    if (!!env.INTAKE_TLS_CERT !== !!env.INTAKE_TLS_KEY) {
      ctx.addIssue({ code: 'custom', path: ['INTAKE_TLS_CERT'], message: 'INTAKE_TLS_CERT and INTAKE_TLS_KEY must be set together (STARTTLS needs both)' });
    }
    if (env.TWILIO_MESSAGING_SERVICE_SID && !env.TWILIO_ACCOUNT_SID) {
      ctx.addIssue({ code: 'custom', path: ['TWILIO_MESSAGING_SERVICE_SID'], message: 'needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (SMS go through the same account)' });
    }
    if (env.VERDICT_DEDUPE_RETENTION_SECONDS !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['VERDICT_DEDUPE_RETENTION_SECONDS'], message: 'is no longer read: set VERDICT_DEDUPE_WINDOW_SECONDS (default 3600) instead' });
    }
    const oidc = [env.OIDC_ISSUER_URL, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      ctx.addIssue({ code: 'custom', path: ['OIDC_ISSUER_URL'], message: 'OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together' });
    }
    if (env.SESSION_MAX_SECONDS < env.SESSION_IDLE_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['SESSION_MAX_SECONDS'], message: 'must be at least SESSION_IDLE_SECONDS' });
    }
    if (env.ENFORCEMENT_WEBHOOK_URL && !env.ENFORCEMENT_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['ENFORCEMENT_WEBHOOK_SECRET'], message: 'is required when ENFORCEMENT_WEBHOOK_URL is set' });
    }
  });

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  publicBaseUrl: string;
  adminToken: string | undefined;
  roles: RoleName[];
  kafka: { brokers: string[]; verdictTopic: string; controlTopic: string; groupId: string } | undefined;
  twilio: { accountSid: string; authToken: string; fromNumber: string; apiBaseUrl: string | undefined; messagingServiceSid: string | undefined } | undefined;
  smtp: { url: string; from: string } | undefined;
  /** The intake role (issue 17): its SMTP listener, and the key of the X-Abuse-Desk-Tenant stamp. */
  intake: { smtpPort: number; maxMessageBytes: number; tls: { certFile: string; keyFile: string } | undefined; stampSecret: string | undefined; retentionDays: number; maxConnections: number };
  enforcementWebhook: { url: string; secret: string } | undefined;
  /** Where enforcement events are delivered: Kafka when KAFKA_BROKERS is set, the webhook when its URL and secret are. */
  enforcementDestinations: ('kafka' | 'webhook')[];
  resolutionTimeoutSeconds: number;
  callRingSeconds: number;
  callResultTimeoutSeconds: number;
  /** How long a (tenantId, messageId) is remembered to ignore a producer's resend (at least this, at most twice). */
  dedupeWindowSeconds: number;
  /** How long per-minute counts and top senders are kept (the surge baseline reads up to 28 days back). */
  countsRetentionDays: number;
  /** Dead letters (verdicts and complaint reports) are kept this many days, and at most `max` of them (the newest). */
  deadLetters: { retentionDays: number; max: number };
  /** How long a worker holds a claimed call, email or event before another worker may take it over. */
  workLeaseSeconds: number;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For is believed for the client address (rate limits, logs). */
  trustProxy: string[];
  /** Single sign-on for the ticket UI; undefined: the UI signs in with an API token. */
  /** `signOutAtProvider`: signing out of the UI also ends the person's session at the provider (RP-initiated logout). */
  oidc: { issuerUrl: string; clientId: string; clientSecret: string; roleClaim: string; roleMap: { value: string; role: 'admin' | 'agent' }[]; scopes: string[]; signOutAtProvider: boolean } | undefined;
  /** UI sessions end after this long unused, and this long after sign-in whatever happens. */
  session: { idleSeconds: number; maxSeconds: number };
  /** Calls placed per second by all notifiers together (Twilio's account limit). */
  callsPerSecond: number;
  /** How often one number may be called in any hour, across all tickets; the call beyond becomes an email. */
  callsPerNumberPerHour: number;
  /** SMS to one number in any hour, across all tickets (beyond: `rate-limited`, not sent). */
  smsPerNumberPerHour: number;
  /** One digest per this many minutes to an address or number shared by several tenants; 0: no digests. */
  digestMinutes: number;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every bad variable and what is wrong with it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0] ?? '(environment)')}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    host: e.HOST,
    port: e.PORT,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    adminToken: e.ADMIN_TOKEN,
    roles: [...new Set(e.ROLES)],
    kafka: e.KAFKA_BROKERS
      ? { brokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean), verdictTopic: e.KAFKA_VERDICT_TOPIC, controlTopic: e.KAFKA_CONTROL_TOPIC, groupId: e.KAFKA_GROUP_ID }
      : undefined,
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM_NUMBER
        ? { accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, fromNumber: e.TWILIO_FROM_NUMBER, apiBaseUrl: e.TWILIO_API_BASE_URL, messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID }
        : undefined,
    intake: {
      smtpPort: e.INTAKE_SMTP_PORT,
      maxMessageBytes: e.INTAKE_MAX_MESSAGE_BYTES,
      tls: e.INTAKE_TLS_CERT && e.INTAKE_TLS_KEY ? { certFile: e.INTAKE_TLS_CERT, keyFile: e.INTAKE_TLS_KEY } : undefined,
      stampSecret: e.TENANT_STAMP_SECRET,
      retentionDays: e.COMPLAINT_RETENTION_DAYS,
      maxConnections: e.INTAKE_MAX_CONNECTIONS,
    },
    smtp: e.SMTP_URL ? { url: e.SMTP_URL, from: e.EMAIL_FROM ?? 'abuse-desk <abuse-desk@localhost>' } : undefined,
    enforcementWebhook: e.ENFORCEMENT_WEBHOOK_URL && e.ENFORCEMENT_WEBHOOK_SECRET ? { url: e.ENFORCEMENT_WEBHOOK_URL, secret: e.ENFORCEMENT_WEBHOOK_SECRET } : undefined,
    enforcementDestinations: [...(e.KAFKA_BROKERS ? (['kafka'] as const) : []), ...(e.ENFORCEMENT_WEBHOOK_URL && e.ENFORCEMENT_WEBHOOK_SECRET ? (['webhook'] as const) : [])],
    resolutionTimeoutSeconds: e.RESOLUTION_TIMEOUT_SECONDS,
    callRingSeconds: e.CALL_RING_SECONDS,
    callResultTimeoutSeconds: e.CALL_RESULT_TIMEOUT_SECONDS,
    workLeaseSeconds: e.WORK_LEASE_SECONDS,
    trustProxy: e.TRUST_PROXY,
    oidc:
      e.OIDC_ISSUER_URL && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET
        ? { issuerUrl: e.OIDC_ISSUER_URL, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET, roleClaim: e.OIDC_ROLE_CLAIM, roleMap: e.OIDC_ROLE_MAP, scopes: e.OIDC_SCOPES, signOutAtProvider: e.OIDC_SIGN_OUT_AT_PROVIDER }
        : undefined,
    session: { idleSeconds: e.SESSION_IDLE_SECONDS, maxSeconds: e.SESSION_MAX_SECONDS },
    callsPerSecond: e.TWILIO_CALLS_PER_SECOND,
    callsPerNumberPerHour: e.CALLS_PER_NUMBER_PER_HOUR,
    smsPerNumberPerHour: e.SMS_PER_NUMBER_PER_HOUR,
    digestMinutes: e.DIGEST_MINUTES,
    dedupeWindowSeconds: e.VERDICT_DEDUPE_WINDOW_SECONDS,
    countsRetentionDays: e.COUNTS_RETENTION_DAYS,
    deadLetters: { retentionDays: e.DEAD_LETTER_RETENTION_DAYS, max: e.DEAD_LETTERS_MAX },
    logLevel: e.LOG_LEVEL,
  };
}
