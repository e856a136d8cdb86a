import type { Knex } from 'knex';

/**
 * Invoices from a mailbox (docs/invoices.md). One mailbox per customer: its password
 * sealed with AES-256-GCM under a key id (so keys rotate), and the incremental position
 * (folder, UIDVALIDITY, last UID). Each PDF found becomes one invoice, keyed by the
 * customer and the hash of its bytes, so a rescan after a UIDVALIDITY change, or the same
 * PDF in two mails or folders, stores and announces it once. Whatever was not an invoice
 * (a non-PDF, a huge attachment, a mail that could not be read) is a skip with its reason.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table mailboxes (
      user_id uuid primary key references users (id) on delete cascade,
      host text not null,
      port integer not null check (port between 1 and 65535),
      tls boolean not null,
      username text not null,
      password_sealed bytea not null,
      password_key_id text not null,
      folder text not null,
      from_filter text,
      subject_filter text,
      timezone text not null,
      -- Where the last ingestion stopped: messages with a greater UID in this UIDVALIDITY are new.
      uid_validity bigint,
      last_uid bigint not null default 0,
      last_error text,
      last_error_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);

  await knex.raw(`
    create table invoice_ingestions (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      status text not null check (status in ('processing', 'completed', 'failed')),
      trigger text not null check (trigger in ('request', 'schedule')),
      messages_read integer not null default 0,
      invoices_stored integer not null default 0,
      duplicates integer not null default 0,
      parsed integer not null default 0,
      unparsed integer not null default 0,
      skipped integer not null default 0,
      rescans integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`);
  await knex.raw('create index invoice_ingestions_user_idx on invoice_ingestions (user_id, created_at desc)');

  await knex.raw(`
    create table invoices (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      content_hash text not null,
      object_key text not null,
      filename text not null,
      size_bytes integer not null,
      source_folder text not null,
      source_uid_validity bigint not null,
      source_uid bigint not null,
      status text not null check (status in ('parsed', 'unparsed')),
      unparsed_reason text,
      template_id text,
      issuer text,
      invoice_number text,
      amount_due_minor bigint,
      currency text,
      due_date date,
      payment_reference text,
      period text,
      -- The biller the issuer's template names: the invoice is paid to it (POST /v1/invoices/{id}/pay).
      biller_id text references billers (id),
      line_items jsonb not null default '[]',
      -- The ingestion or re-parse that stored or parsed it; its notices are owed once (noticed_at).
      ingestion_id uuid,
      noticed_at timestamptz,
      payment_id uuid,
      created_at timestamptz not null default now(),
      parsed_at timestamptz,
      unique (user_id, content_hash),
      check (status = 'unparsed' or (amount_due_minor is not null and due_date is not null and issuer is not null))
    )`);
  await knex.raw('create index invoices_user_due_idx on invoices (user_id, due_date desc nulls last, id desc)');
  await knex.raw("create index invoices_unparsed_idx on invoices (created_at) where status = 'unparsed'");

  // The German template's issuer, so its invoices can be paid (in EUR) like any bill.
  await knex('billers').insert({
    id: 'stadtwerke-musterstadt',
    name: 'Stadtwerke Musterstadt',
    // A municipal utility (water, power); 'water' keeps the electricity list as it was.
    category: 'water',
    currency: 'EUR',
    fee_fixed_minor: 0,
    fee_rate_bps: 0,
    min_amount_minor: 100,
    max_amount_minor: 1_000_000,
    customer_ref_pattern: '^RF[0-9]{8}$',
    customer_ref_example: 'RF00018055',
    cashback_rate_bps: null,
  });

  await knex.raw(`
    create table invoice_skips (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      ingestion_id uuid references invoice_ingestions (id) on delete set null,
      folder text not null,
      uid_validity bigint not null,
      uid bigint not null,
      part text not null,
      filename text,
      content_type text,
      reason text not null,
      created_at timestamptz not null default now(),
      unique (user_id, uid_validity, uid, part)
    )`);

  // An erasure in progress (DELETE /v1/me): what to search for once the user's row is gone.
  // Its last step deletes the row, so nothing of the customer outlives the erasure.
  await knex.raw(`
    create table erasures (
      user_id uuid primary key,
      email text not null,
      phone text not null,
      name text not null,
      started_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table erasures');
  await knex.raw('drop table invoice_skips');
  await knex.raw('drop table invoices');
  await knex('billers').where({ id: 'stadtwerke-musterstadt' }).delete();
  await knex.raw('drop table invoice_ingestions');
  await knex.raw('drop table mailboxes');
}
