// Call attempts follow the voice provider's callbacks: its last call status and the SequenceNumber it
// came with (callbacks repeat and arrive out of order), what answered (person, machine, fax), and the
// key pressed.
import { sql } from 'kysely';

const statements = [
  `alter table contact_attempts add column call_status text`,
  `alter table contact_attempts add column call_sequence integer`,
  `alter table contact_attempts add column answered_by text`,
  `alter table contact_attempts add column digits text`,
  `create index contact_attempts_live_calls on contact_attempts (ticket_id) where channel = 'voice' and status in ('dispatching', 'placed')`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  await sql.raw('drop index if exists contact_attempts_live_calls').execute(db);
  for (const c of ['digits', 'answered_by', 'call_sequence', 'call_status']) await sql.raw(`alter table contact_attempts drop column if exists ${c}`).execute(db);
}
