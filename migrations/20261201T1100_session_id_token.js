// Signing out at the identity provider (OIDC_SIGN_OUT_AT_PROVIDER, follow-up to issue 15): an OIDC session
// keeps the ID token the provider issued, as the id_token_hint of RP-initiated logout. Only with that
// setting, cleared when the session is signed out; sessions that end otherwise lose it as new ones start.
import { sql } from 'kysely';

export async function up(db) {
  await sql.raw('alter table ui_sessions add column id_token text').execute(db);
}

export async function down(db) {
  await sql.raw('alter table ui_sessions drop column if exists id_token').execute(db);
}
