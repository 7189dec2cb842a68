// A thousand tenants at once (issue 14). Three things every notifier shares through the database:
// - call_slots: TWILIO_CALLS_PER_SECOND rows; a notifier leases one to place a call and gives it back
//   with available_at one second after the provider answered, so all notifiers together place at most
//   that many calls in any second, and a slot whose holder died comes back when its lease runs out;
// - contact_attempts.placed_at: when a call was decided (under a per-number lock), so a number is called
//   at most CALLS_PER_NUMBER_PER_HOUR times across all tickets;
// - digests: one message per DIGEST_MINUTES to an address or number on several tenants' lists; the
//   attempts it carries wait as `held` with their digest_id. At most one digest per (channel, address)
//   collects (`pending`) at a time.
import { sql } from 'kysely';

const statements = [
  `create table call_slots (
     slot integer primary key,
     available_at timestamptz not null default now(),
     locked_by text,
     locked_until timestamptz,
     calls bigint not null default 0)`,
  `create table digests (
     id uuid primary key default gen_random_uuid(),
     channel text not null check (channel in ('voice', 'email')),
     address text not null,
     status text not null default 'pending' check (status in ('pending', 'dispatching', 'done', 'failed')),
     due_at timestamptz not null,
     locked_by text,
     locked_until timestamptz,
     tries integer not null default 0,
     last_error text,
     provider_ref text,
     items integer,
     carrier_attempt_id uuid,
     created_at timestamptz not null,
     sent_at timestamptz)`,
  `create unique index digests_collecting on digests (channel, address) where status = 'pending'`,
  `create index digests_recent on digests (channel, address, sent_at)`,
  `alter table contact_attempts add column placed_at timestamptz`,
  `alter table contact_attempts add column digest_id uuid references digests (id)`,
  `alter table contact_attempts drop constraint contact_attempts_status_check`,
  `alter table contact_attempts add constraint contact_attempts_status_check check (status in ('pending', 'dispatching', 'placed', 'held', 'done', 'canceled', 'failed'))`,
  `create index contact_attempts_number_calls on contact_attempts (address, placed_at) where channel = 'voice' and placed_at is not null`,
  `create index contact_attempts_call_queue on contact_attempts (due_at) where channel = 'voice' and status = 'pending'`,
  `create index contact_attempts_digest on contact_attempts (digest_id) where digest_id is not null`,
  `create index contacts_email on contacts (email) where email is not null`,
  `create index contacts_phone on contacts (phone) where phone is not null`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  for (const statement of [
    'drop index if exists contacts_phone',
    'drop index if exists contacts_email',
    "update contact_attempts set status = 'pending' where status = 'held'",
    'alter table contact_attempts drop constraint contact_attempts_status_check',
    "alter table contact_attempts add constraint contact_attempts_status_check check (status in ('pending', 'dispatching', 'placed', 'done', 'canceled', 'failed'))",
    'alter table contact_attempts drop column if exists digest_id',
    'alter table contact_attempts drop column if exists placed_at',
    'drop table if exists digests',
    'drop table if exists call_slots',
  ])
    await sql.raw(statement).execute(db);
}
