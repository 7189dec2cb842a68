// Complaint intake at scale (issue 17, follow-up): a report's tenant is looked up by the IP ranges that
// contain its Source-IP through a GiST index, not by reading every assignment; old processed reports are
// deleted by received_at (COMPLAINT_RETENTION_DAYS), through the index that already exists; old dead letters
// by received_at too (DEAD_LETTER_RETENTION_DAYS), through a new index.
import { sql } from 'kysely';

export async function up(db) {
  // tenant_ips.cidr holds normalised ranges (normalizeCidr), all of which Postgres reads as inet.
  await sql.raw('create index tenant_ips_range on tenant_ips using gist ((cidr::inet) inet_ops)').execute(db);
  await sql.raw('create index dead_letters_received on dead_letters (received_at)').execute(db);
}

export async function down(db) {
  await sql.raw('drop index if exists dead_letters_received').execute(db);
  await sql.raw('drop index if exists tenant_ips_range').execute(db);
}
