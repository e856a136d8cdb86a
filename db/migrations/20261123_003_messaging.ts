import type { Knex } from 'knex';

/**
 * The notification outbox learns about providers: which one took a message and under
 * what id, its delivery status as receipts arrive, how many provider calls it took and
 * why the last one failed, and a short lease while one provider call is in flight (so
 * two overlapping activity attempts cannot both send). Rows written by the sandbox before this migration were
 * recorded as `sent`, which stays a valid status.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table notifications
      add column provider text,
      add column provider_message_id text,
      add column error_reason text,
      add column attempts integer not null default 0,
      add column updated_at timestamptz not null default now(),
      add column delivered_at timestamptz,
      add column sending_until timestamptz`);
  await knex.raw('update notifications set updated_at = created_at');
  await knex.raw(`
    alter table notifications
      add constraint notifications_status_check
      check (status in ('queued', 'sent', 'delivered', 'undelivered', 'failed'))`);
  // Delivery receipts find their message by the provider's id. Not unique: a duplicate
  // id from a provider must not make recording a send fail (and so send it twice).
  await knex.raw('create index notifications_provider_message_idx on notifications (provider, provider_message_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index notifications_provider_message_idx');
  await knex.raw(`
    alter table notifications
      drop constraint notifications_status_check,
      drop column provider,
      drop column provider_message_id,
      drop column error_reason,
      drop column attempts,
      drop column updated_at,
      drop column delivered_at,
      drop column sending_until`);
}
