// Counting storage that grows with tenants × minutes, not with verdicts (issue 12).
// - verdict_keys (one row per verdict, its text, kept 7 days, pruned by DELETE) becomes verdict_seen:
//   a 16-byte hash of (tenantId, messageId) under the minute it was first seen, in range partitions
//   of that minute that are dropped whole once older than the dedupe window.
// - The top senders move into the per-minute counts row (`senders`: {sender: [spam+phish, virus, clean]},
//   the top ones by name and the rest folded under ""), merged by fold_top_senders when a batch meets
//   a stored minute.
// - counts becomes range-partitioned by UTC day so that retention drops whole days.
// Partitions are named <table>_<from>_<to> in epoch minutes and made by the application as needed
// (packages/db/src/partitions.ts). Only the last two hours of keys and senders are carried over: that
// is what a producer's resend and an ongoing trip's evidence can still need, and it keeps this
// migration short on a large installation.
import { sql } from 'kysely';

const DAY_MINUTES = 1440;

// Merges a batch's tallies (b, already folded by the counter) into a stored minute's (a): sums per sender,
// then, when more than `keep` senders are named, the rule of packages/domain/src/senders.ts foldTopSenders
// (keep the top `keep` by bad verdicts, then by mail, then by name; fold the rest under ""). PL/pgSQL: the
// sums cost about 12 µs a row, a fold about 60 µs (PostgreSQL 15); it runs only for tenants near a threshold.
const foldTopSenders = `
  create function fold_top_senders(a jsonb, b jsonb, keep integer) returns jsonb
  language plpgsql immutable parallel safe as $$
  declare
    sender text;
    add jsonb;
    have jsonb;
    named integer;
  begin
    if a is null then return b; end if;
    if b is null then return a; end if;
    for sender, add in select * from jsonb_each(b) loop
      have := a -> sender;
      if have is null then
        a := a || jsonb_build_object(sender, add);
      else
        a := a || jsonb_build_object(sender, jsonb_build_array((have->>0)::int + (add->>0)::int, (have->>1)::int + (add->>1)::int, (have->>2)::int + (add->>2)::int));
      end if;
    end loop;
    select count(*) into named from jsonb_object_keys(a) as k where k <> '';
    if named <= keep then return a; end if;
    return (
      select jsonb_object_agg(name, jsonb_build_array(bad, virus, clean))
      from (
        select case when rank <= keep and name <> '' then name else '' end as name,
               sum(bad)::int as bad, sum(virus)::int as virus, sum(clean)::int as clean
        from (
          select e.key as name, (e.value->>0)::int as bad, (e.value->>1)::int as virus, (e.value->>2)::int as clean,
                 row_number() over (order by e.key = '', (e.value->>0)::int + (e.value->>1)::int desc,
                                    (e.value->>0)::int + (e.value->>1)::int + (e.value->>2)::int desc, e.key collate "C") as rank
          from jsonb_each(a) as e
        ) as ranked
        group by 1
      ) as folded);
  end
  $$`;

export async function up(db) {
  await sql.raw(foldTopSenders).execute(db);

  // Counts, partitioned by day, with the senders column; existing rows move into day partitions.
  await sql.raw(`create table counts_by_day (
     tenant_id text not null,
     bucket_start timestamptz not null,
     spam integer not null default 0,
     phish integer not null default 0,
     virus integer not null default 0,
     clean integer not null default 0,
     senders jsonb,
     primary key (tenant_id, bucket_start)) partition by range (bucket_start)`).execute(db);
  const days = await sql`select distinct floor(extract(epoch from bucket_start) / 86400)::int as day from counts`.execute(db);
  for (const { day } of days.rows) {
    const from = day * DAY_MINUTES;
    const to = from + DAY_MINUTES;
    // Named and bounded as packages/db/src/partitions.ts does: "m" for a minus sign, to_timestamp for bounds.
    const name = (n) => (n < 0 ? `m${-n}` : String(n));
    await sql.raw(`create table counts_${name(from)}_${name(to)} partition of counts_by_day for values from (to_timestamp(${from * 60})) to (to_timestamp(${to * 60}))`).execute(db);
  }
  await sql`insert into counts_by_day (tenant_id, bucket_start, spam, phish, virus, clean) select tenant_id, bucket_start, spam, phish, virus, clean from counts`.execute(db);
  await sql`
    update counts_by_day c set senders = s.senders
    from (
      select tenant_id, bucket_start, fold_top_senders('{}'::jsonb, jsonb_object_agg(sender, jsonb_build_array(bad, virus, clean)), 10) as senders
      from (
        select tenant_id, date_trunc('minute', occurred_at) as bucket_start, sender,
               count(*) filter (where verdict in ('spam', 'phish'))::int as bad,
               count(*) filter (where verdict = 'virus')::int as virus,
               count(*) filter (where verdict = 'clean')::int as clean
        from verdict_keys
        where seen_at > now() - interval '2 hours' and sender is not null and sender <> ''
        group by 1, 2, 3
      ) as per_sender
      group by tenant_id, bucket_start
    ) as s
    where c.tenant_id = s.tenant_id and c.bucket_start = s.bucket_start`.execute(db);
  await sql`drop table counts`.execute(db);
  await sql`alter table counts_by_day rename to counts`.execute(db);

  // Dedupe keys: partitions by minute first seen. The carried-over keys get one partition of their own.
  await sql.raw(`create table verdict_seen (
     slot integer not null,
     key uuid not null,
     primary key (key, slot)) partition by range (slot)`).execute(db);
  const span = await sql`select floor(extract(epoch from min(seen_at)) / 60)::int as first, floor(extract(epoch from max(seen_at)) / 60)::int as last
                         from verdict_keys where seen_at > now() - interval '2 hours'`.execute(db);
  const { first, last } = span.rows[0];
  if (first !== null) {
    await sql.raw(`create table verdict_seen_${first}_${last + 1} partition of verdict_seen for values from (${first}) to (${last + 1})`).execute(db);
    await sql`
      insert into verdict_seen (slot, key)
      select floor(extract(epoch from seen_at) / 60)::int,
             encode(substring(sha256(convert_to(tenant_id || E'\n' || message_id, 'UTF8')) from 1 for 16), 'hex')::uuid
      from verdict_keys where seen_at > now() - interval '2 hours'
      on conflict do nothing`.execute(db);
  }
  await sql`drop table verdict_keys`.execute(db);
}

export async function down(db) {
  await sql.raw(`create table verdict_keys (
     tenant_id text not null,
     message_id text not null,
     occurred_at timestamptz not null,
     verdict text not null,
     sender text,
     seen_at timestamptz not null default now(),
     primary key (tenant_id, message_id))`).execute(db);
  await sql.raw(`create index verdict_keys_seen_at on verdict_keys (seen_at)`).execute(db);
  await sql.raw(`create index verdict_keys_bad_by_time on verdict_keys (tenant_id, occurred_at) where verdict <> 'clean'`).execute(db);
  await sql`drop table verdict_seen`.execute(db);
  await sql.raw(`create table counts_flat (
     tenant_id text not null,
     bucket_start timestamptz not null,
     spam integer not null default 0,
     phish integer not null default 0,
     virus integer not null default 0,
     clean integer not null default 0,
     primary key (tenant_id, bucket_start))`).execute(db);
  await sql`insert into counts_flat select tenant_id, bucket_start, spam, phish, virus, clean from counts`.execute(db);
  await sql`drop table counts`.execute(db);
  await sql`alter table counts_flat rename to counts`.execute(db);
  await sql`drop function fold_top_senders(jsonb, jsonb, integer)`.execute(db);
}
