// Token lifecycle (issue 15): who created a token, when it was last used (at most once a minute), when it
// expires; and an audit trail of token creations, revocations and rotations.
import { sql } from 'kysely';

const statements = [
  `alter table api_tokens add column created_by text`,
  `alter table api_tokens add column last_used_at timestamptz`,
  `alter table api_tokens add column expires_at timestamptz`,
  `create table audit_events (
     id bigserial primary key,
     at timestamptz not null,
     actor text not null,
     type text not null,
     subject text not null,
     data jsonb)`,
  `create index audit_events_at on audit_events (at desc)`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  for (const statement of [
    'drop table if exists audit_events',
    'alter table api_tokens drop column if exists expires_at',
    'alter table api_tokens drop column if exists last_used_at',
    'alter table api_tokens drop column if exists created_by',
  ])
    await sql.raw(statement).execute(db);
}
