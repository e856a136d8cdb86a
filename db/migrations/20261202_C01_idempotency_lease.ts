import type { Knex } from 'knex';

/**
 * An Idempotency-Key claim is held by a lease its request renews while it runs, so a
 * slow request keeps its key and only a holder that is gone (crashed, cut off from the
 * database) loses it. Claims made before this migration have no lease: they are judged
 * by their age, as before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table idempotency_keys add column lease_expires_at timestamptz');
  // Anonymous keys are scoped by client address from now on; `public` rows simply expire.
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table idempotency_keys drop column lease_expires_at');
}
