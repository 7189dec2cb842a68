// SMS per number (follow-up to issue 16): SMS_PER_NUMBER_PER_HOUR counts the SMS decided to a number in the
// last hour (contact_attempts.placed_at, stamped under a per-number lock as for calls) through its own
// partial index, beside the one for calls.
import { sql } from 'kysely';

export async function up(db) {
  await sql.raw(`create index contact_attempts_number_sms on contact_attempts (address, placed_at) where channel = 'sms' and placed_at is not null`).execute(db);
}

export async function down(db) {
  await sql.raw('drop index if exists contact_attempts_number_sms').execute(db);
}
