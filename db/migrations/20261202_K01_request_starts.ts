import type { Knex } from 'knex';

/**
 * How each money request's workflow is started, written with the request's row
 * (src/temporal/request-starts.ts): the `finflow-request-starts` Schedule starts a
 * workflow that never started from it, and forgets the record once the row has ended.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table request_starts (
      workflow_id text primary key,
      request_table text not null check (request_table in ('wallet_fundings', 'customer_transfers', 'bank_postings', 'payments')),
      request_id uuid not null,
      workflow_type text not null,
      input jsonb not null,
      ids jsonb not null,
      with_outcome boolean not null default false,
      created_at timestamptz not null default now(),
      restarts integer not null default 0,
      restarted_at timestamptz
    )`);
  await knex.raw('create index request_starts_created_idx on request_starts (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table request_starts');
}
