import type { Knex } from 'knex';

/**
 * Faults of the sandbox providers, switched at run time (docs/reliability.md, "Slow
 * providers"): one row per sandbox says how its calls misbehave until `until`. Read only by
 * processes started with SANDBOX_FAULTS=true (the chaos run's); no row, no fault.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table sandbox_faults (
      provider text primary key check (provider in ('funding', 'billers', 'sms', 'email')),
      mode text not null check (mode in ('latency', 'failure', 'timeout')),
      latency_ms integer not null check (latency_ms between 0 and 600000),
      share real not null check (share > 0 and share <= 1),
      until timestamptz not null
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table sandbox_faults');
}
