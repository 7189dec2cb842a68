// The one typed description of the database (kysely), matching migrations/. Nullable columns are
// `| null`; columns with defaults are Generated<>.
import type { Evidence, SenderTallies, WalkContact } from '@abuse-desk/domain';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface TenantsTable {
  id: string;
  name: string;
  notes: string | null;
  outbound_enabled: Generated<boolean>;
  outbound_changed_at: GeneratedTimestamp;
  outbound_ticket_id: string | null;
  enforcement_seq: Generated<string>;
  probation_since: Timestamp | null;
  probation_until: Timestamp | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface ContactsTable {
  id: Generated<string>;
  tenant_id: string;
  position: number;
  name: string;
  phone: string | null;
  email: string | null;
  role: 'contact' | 'tam';
  preferred_channel: 'phone' | 'email' | 'sms' | null;
  timezone: string | null;
}

export interface SettingsTable {
  key: string;
  value: Json<unknown>;
  updated_at: GeneratedTimestamp;
  updated_by: string;
}

export interface TenantPoliciesTable {
  tenant_id: string;
  policy: Json<unknown>;
  reason: string;
  expires_at: Timestamp | null;
  set_by: string;
  set_at: GeneratedTimestamp;
}

export interface ApiTokensTable {
  id: Generated<string>;
  name: string;
  role: 'admin' | 'agent' | 'ingest';
  token_hash: string;
  created_at: GeneratedTimestamp;
  revoked_at: Timestamp | null;
  /** Who created it (`admin:<name>`), null for the bootstrap admin token (migration 20261130T1800). */
  created_by: string | null;
  /** Updated at most once a minute. */
  last_used_at: Timestamp | null;
  expires_at: Timestamp | null;
}

/** Who did what to a token (created, revoked, rotated): the audit trail outside tickets and tenants. */
export interface AuditEventsTable {
  id: Generated<string>;
  at: Timestamp;
  actor: string;
  type: string;
  subject: string;
  data: Json<unknown> | null;
}

/** A dedupe key (migration 20261130T1200): partitioned by the minute it was first seen. */
export interface VerdictSeenTable {
  /** Epoch minute the key was first seen. */
  slot: number;
  /** The first 128 bits of SHA-256 over "<tenantId>\n<messageId>". */
  key: string;
}

export interface CountsTable {
  tenant_id: string;
  bucket_start: Timestamp;
  spam: Generated<number>;
  phish: Generated<number>;
  virus: Generated<number>;
  clean: Generated<number>;
  /** The minute's top senders, the rest under "" (domain senders.ts). */
  senders: SenderTallies | null;
}

export type { Evidence };

/** A contact as the walk saw it when the ticket opened (stored with the ticket). */
export type ContactSnapshot = WalkContact;

export interface TicketsTable {
  id: Generated<string>;
  number: string;
  tenant_id: string;
  state: string;
  severity: string;
  rule: string;
  evidence: Json<Evidence>;
  contacts: Json<ContactSnapshot[]>;
  no_contacts: Generated<boolean>;
  walk_position: Generated<number>;
  /** The contact walk runs (independent of state: a ticket suspended at once still walks). */
  walking: Generated<boolean>;
  deadline_at: Timestamp | null;
  state_before_resolution: string | null;
  outbound_disabled: Generated<boolean>;
  resolution_text: string | null;
  resolution_contact_name: string | null;
  resolution_submitted_at: Timestamp | null;
  trip_count: Generated<number>;
  last_trip_at: Timestamp;
  event_seq: Generated<number>;
  opened_at: Timestamp;
  closed_at: Timestamp | null;
  updated_at: Timestamp;
  /** Redial settings of the policy the ticket opened under (migration 20261130T2200). */
  call_attempts: Generated<number>;
  redial_after_seconds: Generated<number>;
  /** SMS settings of the policy the ticket opened under, and the code a contact replies with (migration 20261201T0000). */
  sms_after_call: Generated<boolean>;
  sms_reply_seconds: Generated<number>;
  ack_code: string | null;
}

export interface TenantEventsTable {
  id: Generated<string>;
  tenant_id: string;
  at: Timestamp;
  actor: string;
  type: string;
  reason: string | null;
  data: Json<unknown> | null;
}

export interface TicketEventsTable {
  id: Generated<string>;
  ticket_id: string;
  seq: number;
  at: Timestamp;
  actor: string;
  type: string;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  data: Json<unknown> | null;
}

/** `held`: an attempt waiting for the digest of its address (digest_id), sent with it. */
export type AttemptStatus = 'pending' | 'dispatching' | 'placed' | 'held' | 'done' | 'canceled' | 'failed';

export interface ContactAttemptsTable {
  id: Generated<string>;
  ticket_id: string;
  contact_id: string;
  contact_name: string;
  address: string;
  timezone: string | null;
  channel: 'voice' | 'email' | 'sms';
  kind: string;
  step: number;
  status: AttemptStatus;
  outcome: string | null;
  due_at: Timestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  tries: Generated<number>;
  last_error: string | null;
  provider_ref: string | null;
  call_status: string | null;
  call_sequence: number | null;
  answered_by: string | null;
  digits: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Timestamp | null;
  /** When the call was decided, under the per-number lock: what CALLS_PER_NUMBER_PER_HOUR counts. */
  placed_at: Timestamp | null;
  /** The digest this attempt waits for (held) or was sent with. */
  digest_id: string | null;
  /** The n-th call to this contact at this step (redial, migration 20261130T2200); 1 for everything else. */
  round: Generated<number>;
  /** An SMS's last delivery status from the provider (queued, sent, delivered, undelivered, failed). */
  message_status: string | null;
}

/** A number that must not be texted: Twilio answered 21610 (the person replied STOP), or a STOP reply reached us. */
export interface SmsOptOutsTable {
  number: string;
  opted_out_at: Timestamp;
  source: string;
}

/** One of TWILIO_CALLS_PER_SECOND call slots (migration 20261130T1600). */
export interface CallSlotsTable {
  slot: number;
  available_at: GeneratedTimestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  calls: Generated<string>;
}

export type DigestStatus = 'pending' | 'dispatching' | 'done' | 'failed';

/** One message to an address or number shared by several tenants, carrying every held attempt of its period. */
export interface DigestsTable {
  id: Generated<string>;
  channel: 'voice' | 'email';
  address: string;
  status: Generated<DigestStatus>;
  due_at: Timestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  tries: Generated<number>;
  last_error: string | null;
  provider_ref: string | null;
  items: number | null;
  carrier_attempt_id: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

export type CallCommandKind = 'cancel' | 'voicemail' | 'hangup';

export interface CallCommandsTable {
  id: Generated<string>;
  attempt_id: string;
  ticket_id: string;
  command: CallCommandKind;
  status: Generated<'pending' | 'done' | 'failed'>;
  due_at: Timestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  tries: Generated<number>;
  last_error: string | null;
  created_at: Timestamp;
  completed_at: Timestamp | null;
}

/** A signed-in browser of the ticket UI (migration 20261130T2000); the cookie holds the token, this its hash. */
export interface UiSessionsTable {
  id: Generated<string>;
  token_hash: string;
  method: 'oidc' | 'token';
  role: 'admin' | 'agent';
  /** The identity provider's subject (oidc sessions). */
  subject: string | null;
  email: string | null;
  name: string;
  /** How the session's actions are recorded in ticket events and the audit trail. */
  actor: string;
  /** The API token a token sign-in used: revoking it ends the session. */
  api_token_id: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  ended_at: Timestamp | null;
  /** The provider's ID token, the id_token_hint at sign-out (only with OIDC_SIGN_OUT_AT_PROVIDER; cleared when it ends). */
  id_token: string | null;
}

/** An OpenID Connect sign-in between the redirect to the provider and its callback (ten minutes at most). */
export interface SignInRequestsTable {
  state_hash: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  created_at: Timestamp;
}

/** An acknowledgement link of one email (migration 20261130T2100): bound to a ticket and a contact of its list. */
export interface AckTokensTable {
  token_hash: string;
  ticket_id: string;
  contact_id: string;
  created_at: Timestamp;
}

export interface ResolutionTokensTable {
  token_hash: string;
  ticket_id: string;
  created_at: Timestamp;
}

export interface OutboxTable {
  id: string;
  tenant_id: string;
  ticket_id: string;
  type: 'outbound.suspended' | 'outbound.reinstated';
  payload: Json<unknown>;
  tenant_seq: string;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
}

export type Destination = 'kafka' | 'webhook';
export const DESTINATIONS: readonly Destination[] = ['kafka', 'webhook'];

export interface OutboxDeliveriesTable {
  event_id: string;
  destination: Destination;
  tenant_id: string;
  tenant_seq: string;
  status: 'pending' | 'delivered';
  due_at: Timestamp;
  tries: Generated<number>;
  last_error: string | null;
  locked_by: string | null;
  locked_until: Timestamp | null;
  delivered_at: Timestamp | null;
}

export interface KafkaOffsetsTable {
  group_id: string;
  topic: string;
  partition: number;
  next_offset: string;
  updated_at: Timestamp;
}

export interface DeadLettersTable {
  id: Generated<string>;
  received_at: GeneratedTimestamp;
  source: string;
  topic: string | null;
  partition: number | null;
  offset: string | null;
  raw: Uint8Array;
  reason: string;
}

/** A complaint report as received (issue 17): raw bytes first, what processing found after. */
export interface ComplaintReportsTable {
  id: Generated<string>;
  received_at: Timestamp;
  source: 'smtp' | 'api';
  envelope_from: string | null;
  remote_address: string | null;
  raw: Uint8Array;
  status: Generated<'pending' | 'dispatching' | 'done'>;
  due_at: Timestamp;
  tries: Generated<number>;
  locked_by: string | null;
  locked_until: Timestamp | null;
  last_error: string | null;
  processed_at: Timestamp | null;
  outcome: 'counted' | 'duplicate' | 'unattributed' | 'dead_letter' | null;
  format: string | null;
  feedback_type: string | null;
  source_ip: string | null;
  arrival_date: Timestamp | null;
  message_id: string | null;
  mail_from: string | null;
  subject: string | null;
  sample_headers: string | null;
  tenant_id: string | null;
  attributed_by: 'stamp' | 'ip' | null;
  attribution_detail: string | null;
}

/** A CIDR range a tenant sends from, optionally only for a period (issue 17). */
export interface TenantIpsTable {
  id: Generated<string>;
  tenant_id: string;
  cidr: string;
  valid_from: Timestamp | null;
  valid_until: Timestamp | null;
  note: string | null;
  created_at: Timestamp;
}

export interface Database {
  tenants: TenantsTable;
  contacts: ContactsTable;
  settings: SettingsTable;
  tenant_policies: TenantPoliciesTable;
  api_tokens: ApiTokensTable;
  verdict_seen: VerdictSeenTable;
  counts: CountsTable;
  tickets: TicketsTable;
  ticket_events: TicketEventsTable;
  tenant_events: TenantEventsTable;
  contact_attempts: ContactAttemptsTable;
  call_commands: CallCommandsTable;
  call_slots: CallSlotsTable;
  digests: DigestsTable;
  audit_events: AuditEventsTable;
  ui_sessions: UiSessionsTable;
  ack_tokens: AckTokensTable;
  sms_opt_outs: SmsOptOutsTable;
  complaint_reports: ComplaintReportsTable;
  tenant_ips: TenantIpsTable;
  sign_in_requests: SignInRequestsTable;
  resolution_tokens: ResolutionTokensTable;
  outbox: OutboxTable;
  outbox_deliveries: OutboxDeliveriesTable;
  kafka_offsets: KafkaOffsetsTable;
  dead_letters: DeadLettersTable;
}

export type Tenant = Selectable<TenantsTable>;
export type ContactRow = Selectable<ContactsTable>;
export type Ticket = Selectable<TicketsTable>;
export type NewTicket = Insertable<TicketsTable>;
export type TicketUpdate = Updateable<TicketsTable>;
export type TicketEvent = Selectable<TicketEventsTable>;
export type ContactAttempt = Selectable<ContactAttemptsTable>;
export type NewContactAttempt = Insertable<ContactAttemptsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type CallCommand = Selectable<CallCommandsTable>;
export type Digest = Selectable<DigestsTable>;
export type ComplaintReport = Selectable<ComplaintReportsTable>;
export type TenantIp = Selectable<TenantIpsTable>;
