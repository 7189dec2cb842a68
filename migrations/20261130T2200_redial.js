// Redial (issue 16): a ticket keeps the redial settings of the policy it opened under, and a contact may
// be called up to three times at one walk step — the attempt key gains the call's round.
import { sql } from 'kysely';

const statements = [
  `alter table tickets add column call_attempts smallint not null default 1`,
  `alter table tickets add column redial_after_seconds integer not null default 120`,
  `alter table contact_attempts add column round smallint not null default 1`,
  `alter table contact_attempts drop constraint contact_attempts_ticket_id_contact_id_kind_step_key`,
  `alter table contact_attempts add constraint contact_attempts_key unique (ticket_id, contact_id, kind, step, round)`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  for (const statement of [
    'alter table contact_attempts drop constraint if exists contact_attempts_key',
    'delete from contact_attempts where round > 1',
    'alter table contact_attempts add constraint contact_attempts_ticket_id_contact_id_kind_step_key unique (ticket_id, contact_id, kind, step)',
    'alter table contact_attempts drop column if exists round',
    'alter table tickets drop column if exists redial_after_seconds',
    'alter table tickets drop column if exists call_attempts',
  ])
    await sql.raw(statement).execute(db);
}
