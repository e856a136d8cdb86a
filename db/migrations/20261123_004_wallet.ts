import type { Knex } from 'knex';

/**
 * Wallet funding, customer-to-customer transfers, bank-side postings, alert
 * preferences and the sandbox funding processor's own records. Money moves only in
 * ledger_transfers; these tables track the requests and their workflow outcomes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table users add column sms_alerts_enabled boolean not null default true');

  await knex.raw(`
    create table wallet_fundings (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      account_id uuid not null references ledger_accounts (id),
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      source_type text not null check (source_type in ('card', 'bank_account')),
      status text not null check (status in ('processing', 'succeeded', 'failed')),
      failure_reason text,
      processor_charge_id text,
      transfer_id uuid,
      workflow_id text not null unique,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
  await knex.raw('create index wallet_fundings_user_idx on wallet_fundings (user_id, created_at desc, id desc)');

  await knex.raw(`
    create table customer_transfers (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      from_account_id uuid not null references ledger_accounts (id),
      to_account_id uuid not null references ledger_accounts (id),
      -- Erasing the recipient keeps the sender's record of the transfer.
      to_user_id uuid references users (id) on delete set null,
      -- The recipient as the sender named them: {"email": …} or {"phone": …}.
      recipient jsonb not null,
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      note text,
      status text not null check (status in ('processing', 'succeeded', 'failed')),
      failure_reason text,
      transfer_id uuid,
      workflow_id text not null unique,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
  await knex.raw('create index customer_transfers_user_idx on customer_transfers (user_id, created_at desc, id desc)');

  await knex.raw(`
    create table bank_postings (
      id uuid primary key,
      account_id uuid not null references ledger_accounts (id),
      direction text not null check (direction in ('credit', 'debit')),
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      code text not null check (code in ('deposit', 'salary', 'card_purchase', 'fee', 'adjustment')),
      description text not null,
      status text not null check (status in ('processing', 'succeeded', 'failed')),
      failure_reason text,
      transfer_id uuid,
      workflow_id text not null unique,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
  await knex.raw('create index bank_postings_account_idx on bank_postings (account_id, created_at desc, id desc)');

  await knex.raw(`
    create table sandbox_funding_charges (
      charge_id text primary key,
      processor_charge_id text not null,
      token text not null,
      amount_minor bigint not null,
      currency char(3) not null,
      status text not null,
      decline_reason text,
      calls integer not null default 0,
      created_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['sandbox_funding_charges', 'bank_postings', 'customer_transfers', 'wallet_fundings']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('alter table users drop column sms_alerts_enabled');
}
