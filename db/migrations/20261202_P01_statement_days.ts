import type { Knex } from 'knex';

/**
 * Statement cycles (docs/statements.md): a card's statement day may be any day of the
 * month, 1 to 31. In a month without that day the cycle closes on the month's last day.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table card_terms drop constraint card_terms_statement_day_check');
  await knex.raw('alter table card_terms add constraint card_terms_statement_day_check check (statement_day between 1 and 31)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('update card_terms set statement_day = 28 where statement_day > 28');
  await knex.raw('alter table card_terms drop constraint card_terms_statement_day_check');
  await knex.raw('alter table card_terms add constraint card_terms_statement_day_check check (statement_day between 1 and 28)');
}
