import type { Knex } from 'knex';

/**
 * Per-transaction and daily limits (docs/security.md, "Limits"): one row per money
 * request that counts against its customer's daily limit, keyed by the request's id
 * (funding, transfer or payment), so a retried reservation counts once. A request that
 * ends without moving money deletes its row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table limit_reservations (
      request_id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      kind text not null check (kind in ('funding', 'transfer', 'payment')),
      currency char(3) not null,
      -- The UTC day the request counts against.
      day date not null,
      amount_minor bigint not null check (amount_minor > 0),
      created_at timestamptz not null default now()
    )
  `);
  await knex.raw('create index limit_reservations_day_idx on limit_reservations (user_id, kind, currency, day)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('limit_reservations');
}
