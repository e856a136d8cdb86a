import type { Knex } from 'knex';

/**
 * The messaging campaigns line (docs/campaigns.md): contacts with consent per channel,
 * templates, segments, campaigns and one row per (campaign, contact) message — the
 * claim that makes each message go out at most once — plus contact imports with their
 * rejected rows, the per-sender send bucket that paces every worker, and the sandbox
 * provider's record of what it "sent" (so an unknown outcome can be looked up there).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table contacts (
      id uuid primary key default gen_random_uuid(),
      phone text not null unique,
      attributes jsonb not null default '{}'::jsonb,
      timezone text not null default 'UTC',
      sms_consent text not null default 'pending' check (sms_consent in ('opt_in', 'opt_out', 'pending')),
      sms_consent_source text,
      sms_consent_at timestamptz,
      whatsapp_consent text not null default 'pending' check (whatsapp_consent in ('opt_in', 'opt_out', 'pending')),
      whatsapp_consent_source text,
      whatsapp_consent_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
  // Segments compile equality and membership to containment (@>), which this index answers.
  await knex.raw('create index contacts_attributes_idx on contacts using gin (attributes jsonb_path_ops)');
  await knex.raw('create index contacts_created_idx on contacts (created_at, id)');

  await knex.raw(`
    create table campaign_templates (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      channel text not null check (channel in ('sms', 'whatsapp')),
      body text not null,
      placeholders text[] not null default '{}',
      created_at timestamptz not null default now()
    )`);

  await knex.raw(`
    create table segments (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      filters jsonb not null,
      created_at timestamptz not null default now()
    )`);

  await knex.raw(`
    create table campaigns (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      template_id uuid not null references campaign_templates (id),
      segment_id uuid not null references segments (id),
      channel text not null check (channel in ('sms', 'whatsapp')),
      schedule_at timestamptz,
      rate_per_second integer,
      quiet_hours jsonb,
      send_window jsonb,
      status text not null default 'draft'
        check (status in ('draft', 'scheduled', 'planning', 'running', 'paused', 'completed', 'cancelled')),
      total integer,
      launched_at timestamptz,
      planned_at timestamptz,
      completed_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);

  // One row per (campaign, contact): the unique pair is the at-most-once claim. seq numbers
  // the audience 1..total so batches are ranges, and the rollout carries no id lists.
  await knex.raw(`
    create table campaign_messages (
      campaign_id uuid not null references campaigns (id) on delete cascade,
      seq integer not null,
      contact_id uuid not null,
      status text not null default 'queued'
        check (status in ('queued', 'waiting_window', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped_no_consent', 'skipped_render_error')),
      not_before timestamptz,
      provider text,
      provider_message_id text,
      error_reason text,
      segments integer,
      claimed_at timestamptz,
      window_at timestamptz,
      sent_at timestamptz,
      delivered_at timestamptz,
      read_at timestamptz,
      receipts jsonb not null default '[]'::jsonb,
      updated_at timestamptz not null default now(),
      primary key (campaign_id, seq),
      unique (campaign_id, contact_id)
    )`);
  await knex.raw('create index campaign_messages_status_idx on campaign_messages (campaign_id, status)');
  await knex.raw('create index campaign_messages_provider_idx on campaign_messages (provider, provider_message_id) where provider_message_id is not null');

  await knex.raw(`
    create table contact_imports (
      id uuid primary key default gen_random_uuid(),
      -- The CSV: in the object storage bucket (large files) or inline (source_csv).
      object_key text,
      source_csv text,
      status text not null default 'processing' check (status in ('processing', 'completed', 'failed')),
      rows_seen integer not null default 0,
      rows_imported integer not null default 0,
      rows_rejected integer not null default 0,
      error_reason text,
      created_at timestamptz not null default now(),
      completed_at timestamptz
    )`);
  await knex.raw(`
    create table contact_import_rejects (
      import_id uuid not null references contact_imports (id) on delete cascade,
      row_number integer not null,
      reason text not null,
      raw text,
      primary key (import_id, row_number)
    )`);

  // GCRA pacing: next_at is when the sender's next message may go (docs/campaigns.md).
  await knex.raw(`
    create table campaign_send_buckets (
      sender text primary key,
      next_at timestamptz not null
    )`);

  await knex.raw(`
    create table sandbox_sms_messages (
      reference text primary key,
      channel text not null,
      to_phone text not null,
      body text not null,
      provider_message_id text not null,
      status text not null,
      -- More than 1 is a duplicate send: the benchmark and the tests count them.
      sends integer not null default 1,
      sent_at timestamptz not null default clock_timestamp()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['sandbox_sms_messages', 'campaign_send_buckets', 'contact_import_rejects', 'contact_imports', 'campaign_messages', 'campaigns', 'segments', 'campaign_templates', 'contacts']) {
    await knex.raw(`drop table ${table}`);
  }
}
