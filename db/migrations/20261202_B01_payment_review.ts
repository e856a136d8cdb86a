import type { Knex } from 'knex';

/**
 * Payments whose biller outcome is unknown, and credits that failed after the biller
 * accepted (docs/payments.md, "Unknown outcomes" and "Forward only"):
 *
 * - `needs_review`: a payment whose hold stays until an operator says whether the
 *   biller was paid; the operator's answer is kept on the row (`resolution`, `note`).
 * - `payment_steps.status` gains `needs_review` (the `pay_biller` step waiting for it).
 * - `payment_repairs`: a cashback or referral bonus that failed for good after the
 *   payment was posted, retried by the repair Schedule until it is credited.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table payments drop constraint payments_status_check;
    alter table payments add constraint payments_status_check
      check (status in ('processing', 'needs_review', 'succeeded', 'failed', 'cancelled'));
    alter table payments
      add column resolution text check (resolution in ('paid', 'not_paid')),
      add column resolution_note text,
      add column resolved_at timestamptz;
    alter table payment_steps drop constraint payment_steps_status_check;
    alter table payment_steps add constraint payment_steps_status_check
      check (status in ('pending', 'running', 'succeeded', 'failed', 'needs_review', 'compensated', 'compensation_failed', 'skipped'));
  `);
  await knex.raw(`
    create table payment_repairs (
      -- '<paymentId>:cashback' or '<paymentId>:referral_bonus': one repair per credit.
      id text primary key,
      payment_id uuid not null references payments (id) on delete cascade,
      credit text not null check (credit in ('cashback', 'referral_bonus')),
      -- The credit activity's input, replayed as it was (its transfer key makes it idempotent).
      input jsonb not null,
      status text not null default 'pending' check (status in ('pending', 'done')),
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `);
  await knex.raw(`create index payment_repairs_pending_idx on payment_repairs (created_at) where status = 'pending'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('payment_repairs');
  await knex.raw(`
    alter table payment_steps drop constraint payment_steps_status_check;
    alter table payment_steps add constraint payment_steps_status_check
      check (status in ('pending', 'running', 'succeeded', 'failed', 'compensated', 'compensation_failed', 'skipped'));
    alter table payments drop column resolution, drop column resolution_note, drop column resolved_at;
    alter table payments drop constraint payments_status_check;
    alter table payments add constraint payments_status_check check (status in ('processing', 'succeeded', 'failed', 'cancelled'));
  `);
}
