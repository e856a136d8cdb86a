import type { Db } from '../../db/knex';

/** How a request ended, as its row records it. `reason` is a stable token such as `card_declined`. */
export type RequestOutcome = { status: 'succeeded'; transferId: string } | { status: 'failed'; reason: string };

/** The columns an outcome sets. */
export function outcomeColumns(outcome: RequestOutcome, db: Db) {
  return {
    status: outcome.status,
    failure_reason: outcome.status === 'failed' ? outcome.reason : null,
    transfer_id: outcome.status === 'succeeded' ? outcome.transferId : null,
    updated_at: db.fn.now(),
  };
}

/** The columns an outcome may change when a row is written again. */
export const OUTCOME_COLUMNS = ['status', 'failure_reason', 'transfer_id', 'updated_at'];

