import type { Knex } from 'knex';

/**
 * The operators' trail: one row per request to an operator or service-token route.
 * Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, so a trail can only grow
 * (a database owner can still drop the trigger; docs/security.md says so).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table audit_log (
      id uuid primary key,
      actor_type text not null check (actor_type in ('user', 'service', 'anonymous')),
      actor_user_id uuid,
      actor_role text,
      method text not null,
      route text not null,
      path text not null,
      resource_id text,
      status integer not null,
      request_id text not null,
      client_address text,
      created_at timestamptz not null default now()
    )`);
  await knex.raw('create index audit_log_created_idx on audit_log (created_at desc, id desc)');
  await knex.raw('create index audit_log_actor_idx on audit_log (actor_user_id, created_at desc)');
  await knex.raw(`
    create function audit_log_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
    end
    $$`);
  await knex.raw(`
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_refuse_change()`);
  await knex.raw(`
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_refuse_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table audit_log');
  await knex.raw('drop function audit_log_refuse_change()');
}
