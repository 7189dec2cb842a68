// Complaint feeds (issue 17): every report received (SMTP or POST /v1/complaints) is stored raw before it
// is acknowledged, then worked as a claimed row; attributed reports count against their tenant once per
// reported Message-ID; tenants' IP assignments (CIDR, optional validity) attribute reports by Source-IP.
import { sql } from 'kysely';

const statements = [
  `create table complaint_reports (
     id uuid primary key default gen_random_uuid(),
     received_at timestamptz not null,
     source text not null check (source in ('smtp', 'api')),
     envelope_from text,
     remote_address text,
     raw bytea not null,
     status text not null default 'pending' check (status in ('pending', 'dispatching', 'done')),
     due_at timestamptz not null,
     tries integer not null default 0,
     locked_by text,
     locked_until timestamptz,
     last_error text,
     processed_at timestamptz,
     outcome text check (outcome in ('counted', 'duplicate', 'unattributed', 'dead_letter')),
     format text,
     feedback_type text,
     source_ip text,
     arrival_date timestamptz,
     message_id text,
     mail_from text,
     subject text,
     sample_headers text,
     tenant_id text references tenants (id) on delete set null,
     attributed_by text check (attributed_by in ('stamp', 'ip')),
     attribution_detail text)`,
  `create index complaint_reports_due on complaint_reports (due_at) where status in ('pending', 'dispatching')`,
  `create index complaint_reports_tenant on complaint_reports (tenant_id, arrival_date) where outcome = 'counted'`,
  `create index complaint_reports_received on complaint_reports (received_at)`,
  // A report and its resend count once: one counted report per (tenant, reported Message-ID).
  `create unique index complaint_reports_once on complaint_reports (tenant_id, message_id) where outcome = 'counted' and message_id is not null`,
  `create table tenant_ips (
     id uuid primary key default gen_random_uuid(),
     tenant_id text not null references tenants (id) on delete cascade,
     cidr text not null,
     valid_from timestamptz,
     valid_until timestamptz,
     note text,
     created_at timestamptz not null,
     check (valid_until is null or valid_from is null or valid_until > valid_from))`,
  `create index tenant_ips_tenant on tenant_ips (tenant_id)`,
  // Tickets opened by the complaint rule.
  `alter table tickets drop constraint tickets_rule_check`,
  `alter table tickets add constraint tickets_rule_check check (rule in ('spam', 'virus', 'surge', 'complaints'))`,
];

export async function up(db) {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db) {
  for (const statement of [
    'drop table if exists tenant_ips',
    'drop table if exists complaint_reports',
    "update tickets set rule = 'spam' where rule = 'complaints'",
    'alter table tickets drop constraint tickets_rule_check',
    "alter table tickets add constraint tickets_rule_check check (rule in ('spam', 'virus', 'surge'))",
  ])
    await sql.raw(statement).execute(db);
}
