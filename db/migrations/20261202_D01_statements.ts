import type { Knex } from 'knex';

/**
 * Statements and SMS banking (docs/statements.md).
 *
 * `statements`: one row per statement, whoever asked for it (the API, the monthly run,
 * an SMS). The workflow id is unique, so one request makes one statement; a monthly
 * statement also carries its month, unique per account, so a restarted or backfilled
 * run cannot make a second one. A row ends `ready` or `failed` (with the reason).
 *
 * `sms_inbound`: every text a customer sent, once: (provider, provider message id) is
 * unique, so a retried webhook stores nothing new and starts nothing new.
 *
 * `card_terms`: what a credit card's statement states beyond its balance: the day its
 * statement is cut, how many days later payment is due, and how the minimum due is
 * worked out (a share of the outstanding amount, with a floor).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table statements (
      id uuid primary key,
      workflow_id text not null unique,
      user_id uuid references users (id) on delete set null,
      account_id uuid not null,
      source text not null check (source in ('api', 'monthly', 'sms')),
      last_n integer check (last_n between 1 and 1000),
      period_from timestamptz,
      period_to timestamptz,
      month text check (month ~ '^[0-9]{4}-[0-9]{2}$'),
      status text not null check (status in ('processing', 'ready', 'failed')),
      failure_reason text,
      object_key text,
      currency text,
      opening_balance_minor bigint,
      closing_balance_minor bigint,
      debits_minor bigint,
      credits_minor bigint,
      line_count integer,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((source = 'monthly') = (month is not null)),
      check (status <> 'failed' or failure_reason is not null)
    )`);
  await knex.raw('create unique index statements_monthly_key on statements (account_id, month) where month is not null');
  await knex.raw('create index statements_user_idx on statements (user_id, created_at desc, id desc)');

  await knex.raw(`
    create table sms_inbound (
      id uuid primary key,
      provider text not null,
      provider_message_id text not null,
      from_number text not null,
      to_number text,
      body text not null,
      user_id uuid references users (id) on delete set null,
      outcome text,
      received_at timestamptz not null default now(),
      handled_at timestamptz,
      unique (provider, provider_message_id)
    )`);

  await knex.raw(`
    create table card_terms (
      account_id uuid primary key,
      statement_day smallint not null default 1 check (statement_day between 1 and 28),
      payment_due_days smallint not null default 21 check (payment_due_days between 1 and 60),
      minimum_due_basis_points integer not null default 500 check (minimum_due_basis_points between 0 and 10000),
      minimum_due_floor_minor bigint not null default 2500 check (minimum_due_floor_minor >= 0)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table card_terms');
  await knex.raw('drop table sms_inbound');
  await knex.raw('drop table statements');
}
