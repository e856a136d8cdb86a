import type { Knex } from 'knex';

/**
 * Card delivery status (docs/cards.md). A partner file is one `card_files` row keyed by
 * the SHA-256 of its bytes, carrying its progress (the byte offset and line after the
 * last committed batch) so a crashed ingestion resumes where it stopped. Events are
 * appended once per (card, status, event time, partner); a card's current status is
 * recomputed from its events by event time. Rejected rows are kept with their line and
 * reason, their raw text redacted of anything that looks like a card number. No column
 * anywhere holds a PAN.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table card_files (
      id text primary key check (id ~ '^[0-9a-f]{64}$'),
      partner text not null,
      object_key text not null,
      source text not null check (source in ('upload', 'pickup')),
      size_bytes bigint not null,
      status text not null default 'received' check (status in ('received', 'processing', 'completed', 'rejected')),
      reason text,
      columns jsonb,
      next_offset bigint not null default 0,
      lines_done integer not null default 0,
      rows_total bigint not null default 0,
      accepted bigint not null default 0,
      rejected bigint not null default 0,
      duplicates bigint not null default 0,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz
    )`);
  await knex.raw(`
    create table cards (
      card_id text primary key,
      phone_e164 text not null,
      phone_seen_at timestamptz not null,
      status text not null,
      status_at timestamptz not null,
      updated_at timestamptz not null default now()
    )`);
  await knex.raw(`
    create table card_events (
      id bigint generated always as identity primary key,
      card_id text not null references cards (card_id),
      status text not null check (status in ('created', 'dispatched', 'in_transit', 'delivery_attempted', 'delivery_exception', 'delivered', 'returned', 'destroyed')),
      event_at timestamptz not null,
      partner text not null,
      file_id text not null references card_files (id),
      line_no integer not null,
      comment text,
      unique (card_id, status, event_at, partner)
    )`);
  await knex.raw(`
    create table card_file_rejects (
      file_id text not null references card_files (id),
      line_no integer not null,
      raw text not null,
      reason text not null,
      primary key (file_id, line_no)
    )`);
  await knex.raw(`
    create table card_pickup_objects (
      object_key text primary key,
      file_id text references card_files (id),
      picked_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table card_pickup_objects, card_file_rejects, card_events, cards, card_files');
}
