import type { Knex } from 'knex';

/**
 * A one-time code may prove a new email or phone (PATCH /v1/me) rather than the current
 * one: `purpose = 'change'` lets its confirmation replace the contact with the code's
 * destination. A code sent to verify the current contact never changes it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table contact_verifications add column purpose text not null default 'verify' check (purpose in ('verify', 'change'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table contact_verifications drop column purpose');
}
