import type { Knex } from 'knex';

/**
 * What wallet customers and operators still missed (issue 13):
 * - a payment may spend the payer's cashback first (`use_cashback`); what it took from
 *   the cashback account is `cashback_used_minor` (the rest came from the wallet);
 * - the biller's own reference for a payment it accepted (`biller_reference`);
 * - a retried payment names the first attempt it retries (`retry_of`), so every attempt
 *   of one bill is found from any of them;
 * - a profile's timezone, and password resets by one-time code (only the code's HMAC).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table payments
      add column use_cashback boolean not null default false,
      add column cashback_used_minor bigint not null default 0 check (cashback_used_minor >= 0),
      add column biller_reference text,
      add column retry_of uuid references payments (id) on delete cascade`);
  await knex.raw('create index payments_retry_of_idx on payments (retry_of) where retry_of is not null');
  // Operator views filter every customer's payments by status, biller and time.
  await knex.raw('create index payments_created_idx on payments (created_at desc, id desc)');

  await knex.raw('alter table users add column timezone text');

  await knex.raw(`
    create table password_resets (
      id uuid primary key,
      user_id uuid not null unique references users (id) on delete cascade,
      code_hash bytea not null,
      attempts_left integer not null check (attempts_left >= 0),
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table password_resets');
  await knex.raw('alter table users drop column timezone');
  await knex.raw('drop index payments_created_idx');
  await knex.raw('alter table payments drop column retry_of, drop column biller_reference, drop column cashback_used_minor, drop column use_cashback');
}
