// Enforcement events get a per-tenant sequence and one delivery row per destination (Kafka, webhook),
// so each destination receives a tenant's events in order and retries independently. Kafka partition
// offsets are stored with the counts they produced, for exactly-once counting.
import { sql } from 'kysely';

const statements = [
  `alter table tenants add column enforcement_seq bigint not null default 0`,
  `alter table outbox add column tenant_seq bigint`,
  `update outbox o set tenant_seq = s.n from (select id, row_number() over (partition by tenant_id order by created_at, id) as n from outbox) s where s.id = o.id`,
  `update tenants t set enforcement_seq = coalesce((select max(tenant_seq) from outbox o where o.tenant_id = t.id), 0)`,
  `alter table outbox alter column tenant_seq set not null`,
  `create unique index outbox_tenant_seq on outbox (tenant_id, tenant_seq)`,
  `create table outbox_deliveries (
     event_id uuid not null references outbox (id),
     destination text not null check (destination in ('kafka', 'webhook')),
     tenant_id text not null,
     tenant_seq bigint not null,
     status text not null check (status in ('pending', 'delivered')),
     due_at timestamptz not null,
     tries integer not null default 0,
     last_error text,
     locked_by text,
     locked_until timestamptz,
     delivered_at timestamptz,
     primary key (event_id, destination))`,
  `create index outbox_deliveries_pending on outbox_deliveries (destination, tenant_id, tenant_seq) where status = 'pending'`,
  `insert into outbox_deliveries (event_id, destination, tenant_id, tenant_seq, status, due_at, delivered_at)
     select o.id, d.destination, o.tenant_id, o.tenant_seq, case when o.delivered_at is null then 'pending' else 'delivered' end, o.created_at, o.delivered_at
     from outbox o cross join (values ('kafka'), ('webhook')) as d(destination)`,
  `create table kafka_offsets (
     group_id text not null,
     topic text not null,
     partition integer not null,
     next_offset bigint not null,
     updated_at timestamptz not null,
     primary key (group_id, topic, partition))`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  await sql.raw('drop table if exists kafka_offsets').execute(db);
  await sql.raw('drop table if exists outbox_deliveries').execute(db);
  await sql.raw('drop index if exists outbox_tenant_seq').execute(db);
  await sql.raw('alter table outbox drop column if exists tenant_seq').execute(db);
  await sql.raw('alter table tenants drop column if exists enforcement_seq').execute(db);
}
