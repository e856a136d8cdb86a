import type { Knex } from 'knex';

/** Users, sessions, login throttling, idempotency keys and the sandbox notification outbox. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create extension if not exists citext');

  await knex.raw(`
    create table users (
      id uuid primary key,
      email citext not null unique,
      password_hash text not null,
      name text not null,
      phone text not null,
      date_of_birth date not null,
      role text not null check (role in ('customer', 'operator')),
      created_at timestamptz not null default now()
    )`);

  // Refresh tokens are stored as SHA-256 hashes. A family is one login; rotation
  // marks the old token used, and presenting a used token revokes the family.
  await knex.raw(`
    create table refresh_tokens (
      id uuid primary key,
      family_id uuid not null,
      user_id uuid not null references users (id) on delete cascade,
      token_hash bytea not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz
    )`);
  await knex.raw('create index refresh_tokens_family_idx on refresh_tokens (family_id)');

  // Failed logins per key ("account:<email>" or "address:<ip>") in a fixed window, in
  // PostgreSQL so the limit holds across API processes.
  await knex.raw(`
    create table login_throttle (
      key text primary key,
      failures integer not null,
      window_started_at timestamptz not null
    )`);

  await knex.raw(`
    create table idempotency_keys (
      scope text not null,
      key text not null,
      method text not null,
      route text not null,
      request_hash text not null,
      state text not null check (state in ('running', 'completed')),
      response_status integer,
      response_headers jsonb,
      response_body jsonb,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      primary key (scope, key)
    )`);
  await knex.raw('create index idempotency_keys_created_idx on idempotency_keys (created_at)');

  // What the sandbox notifier "sent". The dedupe key is `<workflowId>:<step>`, so a
  // retried activity records a message once.
  await knex.raw(`
    create table notifications (
      id uuid primary key,
      dedupe_key text not null unique,
      user_id uuid references users (id) on delete set null,
      channel text not null,
      recipient text not null,
      template text not null,
      body text not null,
      status text not null,
      created_at timestamptz not null default now()
    )`);
  await knex.raw('create index notifications_user_idx on notifications (user_id, created_at desc)');

  await knex.raw(`
    create table seeds (
      name text primary key,
      applied_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['seeds', 'notifications', 'idempotency_keys', 'login_throttle', 'refresh_tokens', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
