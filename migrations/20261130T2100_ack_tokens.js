// Acknowledge by link (issue 16): every email to a contact carries a link of its own — a random token,
// stored hashed, bound to one ticket and one contact of the ticket's contact list.
import { sql } from 'kysely';

const statements = [
  `create table ack_tokens (
     token_hash text primary key,
     ticket_id uuid not null references tickets (id) on delete cascade,
     contact_id text not null,
     created_at timestamptz not null)`,
  `create index ack_tokens_ticket on ack_tokens (ticket_id)`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  await sql.raw('drop table if exists ack_tokens').execute(db);
}
