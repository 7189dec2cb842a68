// Sign-in for the ticket UI (issue 15): server-side sessions behind an HttpOnly cookie (only the hash of
// the cookie's value is stored), and the short-lived state of OpenID Connect sign-ins in progress (PKCE
// verifier, nonce), so any api replica can finish a sign-in another one started.
import { sql } from 'kysely';

const statements = [
  `create table ui_sessions (
     id uuid primary key default gen_random_uuid(),
     token_hash text not null unique,
     method text not null check (method in ('oidc', 'token')),
     role text not null check (role in ('admin', 'agent')),
     subject text,
     email text,
     name text not null,
     actor text not null,
     api_token_id uuid references api_tokens (id),
     created_at timestamptz not null,
     last_seen_at timestamptz not null,
     ended_at timestamptz)`,
  `create index ui_sessions_created_at on ui_sessions (created_at)`,
  `create table sign_in_requests (
     state_hash text primary key,
     code_verifier text not null,
     nonce text not null,
     return_to text not null,
     created_at timestamptz not null)`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  for (const statement of ['drop table if exists sign_in_requests', 'drop table if exists ui_sessions']) await sql.raw(statement).execute(db);
}
