import type { Knex } from 'knex';

/**
 * Verified contact details. A user's email and phone start unverified; a one-time code
 * sent to them proves control. Only a verified phone or email can receive a transfer,
 * and a phone can be verified by one user only (a partial unique index), so "send to
 * this phone" names exactly one person.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table users add column email_verified_at timestamptz, add column phone_verified_at timestamptz');
  await knex.raw('create unique index users_verified_phone_key on users (phone) where phone_verified_at is not null');

  // One outstanding code per user and channel; a new request replaces it. Only a hash
  // of the code is stored (HMAC keyed by the row id), with its expiry and attempts left.
  await knex.raw(`
    create table contact_verifications (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      channel text not null check (channel in ('email', 'phone')),
      destination text not null,
      code_hash bytea not null,
      attempts_left integer not null check (attempts_left >= 0),
      expires_at timestamptz not null,
      created_at timestamptz not null default now(),
      unique (user_id, channel)
    )`);

  // "On change": a new email or phone is unverified until proved, whoever changes it.
  await knex.raw(`
    create function users_reset_verification() returns trigger language plpgsql as $$
    begin
      if new.email is distinct from old.email then new.email_verified_at := null; end if;
      if new.phone is distinct from old.phone then new.phone_verified_at := null; end if;
      return new;
    end
    $$`);
  await knex.raw(`
    create trigger users_reset_verification before update of email, phone on users
      for each row execute function users_reset_verification()`);

  // Whom the sender's money reached, as the sender was shown it (masked name and contact).
  await knex.raw('alter table customer_transfers add column recipient_display jsonb');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table customer_transfers drop column recipient_display');
  await knex.raw('drop trigger users_reset_verification on users');
  await knex.raw('drop function users_reset_verification()');
  await knex.raw('drop table contact_verifications');
  await knex.raw('drop index users_verified_phone_key');
  await knex.raw('alter table users drop column email_verified_at, drop column phone_verified_at');
}
