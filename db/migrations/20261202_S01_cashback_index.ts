import type { Knex } from 'knex';

/**
 * The dashboard's cashback earned reads only the cashback credits of the customer's
 * accounts (docs/performance.md, "API reads"): a partial index holds just those, with the
 * columns the sum needs, so the read no longer walks every credit of the accounts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index ledger_transfers_cashback_credit_idx on ledger_transfers (credit_account_id)
    include (currency, amount_minor, kind) where code = 'cashback'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index ledger_transfers_cashback_credit_idx');
}
