import type { Knex } from 'knex';

/**
 * Payments (docs/payments.md, "The payment saga"): one row per bill or card payment,
 * and its step history. Money moves only in ledger_transfers; these tables record what
 * the payment workflow did and why, for `GET /v1/payments/{id}`.
 *
 * `biller_id` and `recurring_payment_id` carry no foreign key: a payment keeps the
 * biller slug it paid even if the catalogue (migration 005) later drops it, and
 * recurring payments (migration 007) may be deleted while their past payments stay.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table payments (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      kind text not null check (kind in ('bill', 'card')),
      biller_id text,
      customer_ref text,
      from_account_id uuid not null references ledger_accounts (id),
      -- The credit card a card payment pays; null for a bill.
      to_account_id uuid references ledger_accounts (id),
      amount_minor bigint not null check (amount_minor > 0),
      -- Known once the workflow has validated the payment (the fee of the biller then).
      fee_minor bigint not null default 0 check (fee_minor >= 0),
      cashback_minor bigint not null default 0 check (cashback_minor >= 0),
      currency char(3) not null,
      status text not null check (status in ('processing', 'succeeded', 'failed', 'cancelled')),
      failure_reason text,
      workflow_id text not null unique,
      recurring_payment_id uuid,
      period text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint payments_bill_fields check ((kind = 'bill') = (biller_id is not null and customer_ref is not null)),
      constraint payments_card_fields check ((kind = 'card') = (to_account_id is not null)),
      constraint payments_recurring_fields check ((recurring_payment_id is null) = (period is null)),
      constraint payments_failure_reason check ((status in ('failed', 'cancelled')) = (failure_reason is not null))
    )`);
  await knex.raw('create index payments_user_idx on payments (user_id, created_at desc, id desc)');
  // A period of a recurring payment is paid once, whatever fires twice.
  await knex.raw('create unique index payments_recurring_period_idx on payments (recurring_payment_id, period) where recurring_payment_id is not null');

  // One row per status a step reaches, so the history shows each change with its time
  // and reason, compensations included. A step reaches each status at most once: the
  // unique key makes a retried recording a no-op.
  await knex.raw(`
    create table payment_steps (
      id bigint generated always as identity primary key,
      payment_id uuid not null references payments (id) on delete cascade,
      step text not null check (step in ('validate', 'hold', 'pay_biller', 'post', 'cashback', 'notify')),
      status text not null check (status in ('pending', 'running', 'succeeded', 'failed', 'compensated', 'compensation_failed', 'skipped')),
      reason text,
      at timestamptz not null default now(),
      constraint payment_steps_once unique (payment_id, step, status)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('payment_steps');
  await knex.schema.dropTableIfExists('payments');
}
