import type { Db } from '../../db/knex';
import type { BankPostingInput } from '../../workflows/banking/contract';
import { OUTCOME_COLUMNS, outcomeColumns, type RequestOutcome } from '../shared/request-outcome';

/**
 * Side effects of the bank postings: recording each posting's outcome on its row
 * (bank_postings). The ledger transfer itself is posted by `postTransfer` (ledger.ts).
 */

/** A bank posting as its outcome is recorded (the holder is not a column of the record). */
export type BankPostingRecord = Omit<BankPostingInput, 'customerId'> & { workflowId: string };

export function createBankPostingActivities({ db }: { db: Db }) {
  return {
    async recordBankPostingOutcome({ posting: p, outcome }: { posting: BankPostingRecord; outcome: RequestOutcome }) {
      await db('bank_postings')
        .insert({
          id: p.postingId,
          workflow_id: p.workflowId,
          account_id: p.accountId,
          direction: p.direction,
          amount_minor: p.amountMinor,
          currency: p.currency,
          code: p.code,
          description: p.description,
          ...outcomeColumns(outcome, db),
        })
        .onConflict('id')
        .merge(OUTCOME_COLUMNS);
    },
  };
}
