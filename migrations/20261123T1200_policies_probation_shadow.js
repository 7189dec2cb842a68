// Policies beyond the spam count: a ticket walks contacts independently of its state (a critical or
// repeat ticket is suspended at once and still walks), tenants carry their probation, and tenant changes
// (policy overrides, probation) are recorded as append-only tenant events.
import { sql } from 'kysely';

const statements = [
  `alter table tickets add column walking boolean not null default true`,
  `update tickets set walking = (state = 'notifying')`,
  `alter table tenants add column probation_since timestamptz`,
  `alter table tenants add column probation_until timestamptz`,
  `create table tenant_events (
     id bigserial primary key,
     tenant_id text not null references tenants (id) on delete cascade,
     at timestamptz not null,
     actor text not null,
     type text not null,
     reason text,
     data jsonb)`,
  `create index tenant_events_by_tenant on tenant_events (tenant_id, id)`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  await sql.raw('drop table if exists tenant_events').execute(db);
  await sql.raw('alter table tenants drop column if exists probation_until').execute(db);
  await sql.raw('alter table tenants drop column if exists probation_since').execute(db);
  await sql.raw('alter table tickets drop column if exists walking').execute(db);
}
