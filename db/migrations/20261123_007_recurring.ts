import type { Knex } from 'knex';

/**
 * Recurring payments (docs/payments.md, "Recurring payments"): one row per standing
 * instruction. When it fires is a Temporal Schedule (`schedule_id`); this row is the
 * customer's intent (active, paused, cancelled) and the dunning state of the period
 * being retried. Its payments are ordinary rows of `payments` naming it in
 * `recurring_payment_id` and `period`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table recurring_payments (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      biller_id text not null,
      customer_ref text not null,
      from_account_id uuid not null references ledger_accounts (id),
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      frequency text not null check (frequency in ('weekly', 'monthly', 'quarterly')),
      -- The first day a run may fire, a date in the customer's timezone.
      start_date date not null,
      timezone text not null,
      status text not null default 'active' check (status in ('active', 'paused', 'cancelled')),
      -- Why it is paused: 'paused_by_customer', or the failure that exhausted dunning.
      paused_reason text,
      schedule_id text not null unique,
      -- Dunning: the period being retried, the retries made so far and when the next is due.
      dunning_period text,
      dunning_retries smallint not null default 0 check (dunning_retries >= 0),
      next_retry_at timestamptz,
      last_failure_reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      cancelled_at timestamptz,
      constraint recurring_payments_paused_reason check ((status = 'paused') = (paused_reason is not null)),
      constraint recurring_payments_cancelled_at check ((status = 'cancelled') = (cancelled_at is not null))
    )`);
  await knex.raw('create index recurring_payments_user_idx on recurring_payments (user_id, created_at desc, id desc)');

  // Migration 006 allowed one payment per period. A period whose payment failed for
  // insufficient funds is retried (dunning) as a payment of its own, so the rule
  // becomes: at most one payment per period that is under way or has succeeded.
  await knex.raw('drop index payments_recurring_period_idx');
  await knex.raw(`
    create unique index payments_recurring_period_idx on payments (recurring_payment_id, period)
    where recurring_payment_id is not null and status in ('processing', 'succeeded')`);
  await knex.raw('create index payments_recurring_idx on payments (recurring_payment_id, created_at desc) where recurring_payment_id is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists payments_recurring_idx');
  await knex.raw('drop index if exists payments_recurring_period_idx');
  await knex.raw('create unique index payments_recurring_period_idx on payments (recurring_payment_id, period) where recurring_payment_id is not null');
  await knex.schema.dropTableIfExists('recurring_payments');
}
