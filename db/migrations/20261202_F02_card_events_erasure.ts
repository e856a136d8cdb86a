import type { Knex } from 'knex';

/**
 * A card's events go with the card. The erasure sweep (DELETE /v1/me) deletes every row
 * that names the customer's phone, a card included; its events name no one, but their
 * foreign key made that delete fail, and the erasure retry for ever.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table card_events
      drop constraint card_events_card_id_fkey,
      add constraint card_events_card_id_fkey foreign key (card_id) references cards (card_id) on delete cascade`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table card_events
      drop constraint card_events_card_id_fkey,
      add constraint card_events_card_id_fkey foreign key (card_id) references cards (card_id)`);
}
