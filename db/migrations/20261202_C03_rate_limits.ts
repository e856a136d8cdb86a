import type { Knex } from 'knex';

/**
 * Request counters for abuse limits (signup, verification, lookups that reveal whether
 * something exists), one row per key such as `signup:address:<ip>`, counted in a fixed
 * window that starts with its first hit. In PostgreSQL so every API process shares them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table rate_limit_counters (
      key text primary key,
      hits integer not null,
      window_started_at timestamptz not null
    )`);
  await knex.raw('create index rate_limit_counters_window_idx on rate_limit_counters (window_started_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table rate_limit_counters');
}
