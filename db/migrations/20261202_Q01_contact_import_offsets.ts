import type { Knex } from 'knex';

/**
 * Contact imports that commit their place in the file (docs/campaigns.md, "Import"):
 * each batch of rows is merged in one transaction that also moves `next_offset` (the
 * byte where the next unread row starts) and `lines_done`, so a retried import reads on
 * from the last batch written. `header` keeps the file's column names, read once, for
 * the batches that start mid-file. `next_offset` is null until the header is read.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table contact_imports
      add column header text[],
      add column next_offset bigint,
      add column lines_done integer not null default 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table contact_imports drop column header, drop column next_offset, drop column lines_done');
}
