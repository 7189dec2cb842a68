// Durable commands to live calls (SPEC §8): cancel the other calls of a ticket after someone pressed 1,
// play the voicemail after a machine's greeting, hang up on a fax. Written in the transaction that
// decided them and claimed by the notifier like any other work, so a process killed right after the
// key press still cancels the calls. One row per (attempt, command): a repeated decision is a no-op.
import { sql } from 'kysely';

const statements = [
  `create table call_commands (
     id uuid primary key default gen_random_uuid(),
     attempt_id uuid not null references contact_attempts (id),
     ticket_id uuid not null references tickets (id),
     command text not null check (command in ('cancel', 'voicemail', 'hangup')),
     status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
     due_at timestamptz not null,
     locked_by text,
     locked_until timestamptz,
     tries integer not null default 0,
     last_error text,
     created_at timestamptz not null,
     completed_at timestamptz,
     unique (attempt_id, command))`,
  `create index call_commands_due on call_commands (due_at) where status = 'pending'`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  await sql.raw('drop table if exists call_commands').execute(db);
}
