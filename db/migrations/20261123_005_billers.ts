import type { Knex } from 'knex';

/**
 * Billers and their sandbox's records, cashback bookkeeping and referrals (docs/payments.md).
 * Money moves only in ledger_transfers; these tables decide how much and remember what
 * was granted, so a retried credit never grants twice and a monthly cap holds.
 */

/**
 * Seeded billers, all USD. Between them: fixed-only, percentage-only, both and no fee;
 * different limits; per-biller cashback rates, two of them null (the base rate applies).
 * Every example is a valid reference whose last two digits script a plain success on
 * the sandbox biller.
 */
const BILLERS = [
  {
    id: 'brightgrid-power',
    name: 'BrightGrid Power',
    category: 'electricity',
    fee_fixed_minor: 50,
    fee_rate_bps: 0,
    min_amount_minor: 500,
    max_amount_minor: 500_000,
    customer_ref_pattern: '^[0-9]{10}$',
    customer_ref_example: '4820193755',
    cashback_rate_bps: 150,
  },
  {
    id: 'sunvolt-energy',
    name: 'SunVolt Energy',
    category: 'electricity',
    fee_fixed_minor: 0,
    fee_rate_bps: 75,
    min_amount_minor: 1_000,
    max_amount_minor: 1_000_000,
    customer_ref_pattern: '^SV-[0-9]{8}$',
    customer_ref_example: 'SV-20481736',
    cashback_rate_bps: null,
  },
  {
    id: 'fibernet-broadband',
    name: 'FiberNet Broadband',
    category: 'internet',
    fee_fixed_minor: 25,
    fee_rate_bps: 50,
    min_amount_minor: 1_500,
    max_amount_minor: 300_000,
    customer_ref_pattern: '^FN[0-9]{9}$',
    customer_ref_example: 'FN100234567',
    cashback_rate_bps: 200,
  },
  {
    id: 'skyview-cable',
    name: 'SkyView Cable TV',
    category: 'cable',
    fee_fixed_minor: 100,
    fee_rate_bps: 0,
    min_amount_minor: 999,
    max_amount_minor: 50_000,
    customer_ref_pattern: '^[0-9]{12}$',
    customer_ref_example: '700123456789',
    cashback_rate_bps: 50,
  },
  {
    id: 'talkmore-airtime',
    name: 'TalkMore Mobile Airtime',
    category: 'airtime',
    fee_fixed_minor: 0,
    fee_rate_bps: 0,
    min_amount_minor: 100,
    max_amount_minor: 20_000,
    customer_ref_pattern: '^\\+1[2-9][0-9]{9}$',
    customer_ref_example: '+14155550123',
    cashback_rate_bps: 300,
  },
  {
    id: 'clearwater-utility',
    name: 'ClearWater Utility',
    category: 'water',
    fee_fixed_minor: 35,
    fee_rate_bps: 25,
    min_amount_minor: 200,
    max_amount_minor: 250_000,
    customer_ref_pattern: '^CW[0-9]{4}-[0-9]{4}$',
    customer_ref_example: 'CW1234-5678',
    cashback_rate_bps: null,
  },
];

/**
 * A fresh referral code: 10 characters from 32 that cannot be misread (no I, O, 0, 1),
 * 50 random bits taken from gen_random_uuid (its version byte, index 6, is skipped).
 * A column default, so every way a user is inserted gets one.
 */
const REFERRAL_CODE_FUNCTION = `
  create function finflow_new_referral_code() returns text
  language sql volatile as $$
    select string_agg(substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', get_byte(r.bytes, i) % 32 + 1, 1), '' order by i)
      from (select decode(replace(gen_random_uuid()::text, '-', ''), 'hex') as bytes) r,
           unnest(array[0, 1, 2, 3, 4, 5, 7, 9, 10, 11]) as i
  $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table billers (
      id text primary key check (id ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(id) <= 64),
      name text not null,
      category text not null check (category in ('electricity', 'internet', 'cable', 'airtime', 'water')),
      currency char(3) not null,
      fee_fixed_minor bigint not null check (fee_fixed_minor >= 0),
      fee_rate_bps integer not null check (fee_rate_bps between 0 and 10000),
      min_amount_minor bigint not null check (min_amount_minor > 0),
      max_amount_minor bigint not null,
      customer_ref_pattern text not null,
      customer_ref_example text not null,
      -- Null: the base cashback rate applies.
      cashback_rate_bps integer check (cashback_rate_bps between 0 and 10000),
      active boolean not null default true,
      created_at timestamptz not null default now(),
      check (max_amount_minor >= min_amount_minor),
      -- The example shown to customers must itself be a valid reference. (No '?' here:
      -- knex would read it as a binding.)
      check (customer_ref_example ~ ('^(' || customer_ref_pattern || ')$'))
    )`);
  await knex.raw('create index billers_category_idx on billers (category, id) where active');
  await knex('billers').insert(BILLERS.map((b) => ({ ...b, currency: 'USD' })));

  // What the sandbox biller "received", keyed by finflow's payment id (its idempotency key).
  await knex.raw(`
    create table sandbox_biller_payments (
      payment_id text primary key,
      biller_id text not null,
      customer_ref text not null,
      amount_minor bigint not null,
      currency char(3) not null,
      status text not null check (status in ('accepted', 'declined', 'unavailable')),
      decline_reason text,
      biller_reference text,
      calls integer not null default 0,
      created_at timestamptz not null default now()
    )`);

  // Cashback granted per user, calendar month (UTC, 'YYYY-MM') and currency. Crediting
  // locks this row, so concurrent credits of one user queue here and the cap holds.
  await knex.raw(`
    create table cashback_monthly (
      user_id uuid not null references users (id) on delete cascade,
      month char(7) not null check (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
      currency char(3) not null,
      granted_minor bigint not null default 0 check (granted_minor >= 0),
      primary key (user_id, month, currency)
    )`);

  // One row per cashback credit, keyed by its ledger transfer id (derived from the
  // caller's transfer key), so a retry returns the first grant instead of granting again.
  // A grant of 0 (cap reached) is recorded too, with no transfer.
  await knex.raw(`
    create table cashback_grants (
      transfer_id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      payment_id text not null,
      biller_id text not null,
      month char(7) not null,
      currency char(3) not null,
      payment_amount_minor bigint not null check (payment_amount_minor > 0),
      rate_bps integer not null,
      uncapped_minor bigint not null check (uncapped_minor >= 0),
      cashback_minor bigint not null check (cashback_minor >= 0 and cashback_minor <= uncapped_minor),
      posted boolean not null,
      created_at timestamptz not null default now()
    )`);
  await knex.raw('create index cashback_grants_user_idx on cashback_grants (user_id, month)');

  await knex.raw(REFERRAL_CODE_FUNCTION);
  // A volatile default is evaluated per row, so adding the column backfills every
  // existing user with a code of their own.
  await knex.raw(`
    alter table users
      add column referral_code text not null default finflow_new_referral_code()
        constraint users_referral_code_format check (referral_code ~ '^[A-Z0-9]{6,12}$'),
      add column referred_by uuid references users (id) on delete set null`);
  await knex.raw('alter table users add constraint users_referral_code_key unique (referral_code)');

  // At most one referral bonus per referred user: the primary key is the claim.
  await knex.raw(`
    create table referral_bonuses (
      referred_user_id uuid primary key references users (id) on delete cascade,
      referrer_user_id uuid references users (id) on delete set null,
      transfer_id uuid not null unique,
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      created_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['referral_bonuses', 'cashback_grants', 'cashback_monthly', 'sandbox_biller_payments', 'billers']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('alter table users drop column referred_by, drop column referral_code');
  await knex.raw('drop function finflow_new_referral_code()');
}
