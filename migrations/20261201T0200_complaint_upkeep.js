// Complaint intake at scale (issue 17, follow-up): a report's tenant is looked up by the IP ranges that
// contain its Source-IP through a GiST index, not by reading every assignment; old processed reports are
// deleted by received_at (COMPLAINT_RETENTION_DAYS), through the index that already exists.
import { sql } from 'kysely';

export async function up(db) {
  // tenant_ips.cidr holds normalised ranges (normalizeCidr), all of which Postgres reads as inet.
  await sql.raw('create index tenant_ips_range on tenant_ips using gist ((cidr::inet) inet_ops)').execute(db);
}

export async function down(db) {
  await sql.raw('drop index if exists tenant_ips_range').execute(db);
}
