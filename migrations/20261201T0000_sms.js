// SMS (issue 16): contacts may prefer SMS; attempts go out on a third channel with the provider's delivery
// status; a ticket keeps the SMS settings of the policy it opened under and a short code a contact
// replies with (`ACK 4821`); numbers that opted out of SMS (Twilio 21610, or a STOP reply) are kept.
import { sql } from 'kysely';

const statements = [
  `alter table contacts drop constraint contacts_preferred_channel_check`,
  `alter table contacts add constraint contacts_preferred_channel_check check (preferred_channel in ('phone', 'email', 'sms'))`,
  `alter table contact_attempts drop constraint contact_attempts_channel_check`,
  `alter table contact_attempts add constraint contact_attempts_channel_check check (channel in ('voice', 'email', 'sms'))`,
  `alter table contact_attempts add column message_status text`,
  // Inbound replies are matched to the open tickets that texted the sender's number.
  `create index contact_attempts_sms_address on contact_attempts (address) where channel = 'sms'`,
  `alter table tickets add column sms_after_call boolean not null default false`,
  `alter table tickets add column sms_reply_seconds integer not null default 300`,
  `alter table tickets add column ack_code text`,
  `create table sms_opt_outs (
     number text primary key,
     opted_out_at timestamptz not null,
     source text not null)`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  for (const statement of [
    'drop table if exists sms_opt_outs',
    'alter table tickets drop column if exists ack_code',
    'alter table tickets drop column if exists sms_reply_seconds',
    'alter table tickets drop column if exists sms_after_call',
    'drop index if exists contact_attempts_sms_address',
    'alter table contact_attempts drop column if exists message_status',
    "delete from contact_attempts where channel = 'sms'",
    'alter table contact_attempts drop constraint contact_attempts_channel_check',
    "alter table contact_attempts add constraint contact_attempts_channel_check check (channel in ('voice', 'email'))",
    "update contacts set preferred_channel = null where preferred_channel = 'sms'",
    'alter table contacts drop constraint contacts_preferred_channel_check',
    "alter table contacts add constraint contacts_preferred_channel_check check (preferred_channel in ('phone', 'email'))",
  ])
    await sql.raw(statement).execute(db);
}
