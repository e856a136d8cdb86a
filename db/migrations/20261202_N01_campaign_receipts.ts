import type { Knex } from 'knex';

/**
 * Campaign receipts that arrive before their message's send is recorded
 * (docs/campaigns.md, "Statuses and receipts"). A batch records its outcomes — the
 * provider's message id among them — in one statement per chunk, after the chunk's
 * provider calls; a receipt the provider posts in between finds no message by that id.
 * Such a receipt is parked here and applied, forward-only, by the statement that records
 * the outcome. `campaign_message_rank` is the one ordering of statuses both paths use.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function campaign_message_rank(status text) returns integer
      language sql immutable parallel safe
      return case status
        when 'queued' then 0 when 'waiting_window' then 1 when 'sending' then 2 when 'sent' then 3
        when 'delivered' then 4 when 'failed' then 4 when 'read' then 5
        when 'skipped_no_consent' then 6 when 'skipped_render_error' then 6 end`);
  await knex.raw(`
    create table campaign_receipt_backlog (
      id bigint generated always as identity primary key,
      provider text not null,
      provider_message_id text not null,
      status text not null check (status in ('sent', 'delivered', 'read', 'failed')),
      error_reason text,
      raw jsonb not null,
      received_at timestamptz not null default now()
    )`);
  await knex.raw('create index campaign_receipt_backlog_message_idx on campaign_receipt_backlog (provider, provider_message_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table campaign_receipt_backlog');
  await knex.raw('drop function campaign_message_rank(text)');
}
