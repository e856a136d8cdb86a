import type { Db } from '../../db/knex';
import type { ChargeStatus, FundingProcessor, FundingSource } from '../../providers/funding/port';
import { releaseLimit } from '../../limits/reserve';
import { parseAmountMinor } from '../../money/money';
import { OUTCOME_COLUMNS, outcomeColumns, type RequestOutcome } from '../shared/request-outcome';
import type { CustomerTransferInput } from '../../workflows/wallet/contract';

/**
 * Side effects of the wallet's money workflows: charging the funding processor, and
 * recording each request's outcome on its row (wallet_fundings, customer_transfers). The ledger transfer itself is posted by `postTransfer` (ledger.ts).
 */

export interface ChargeFundingInput {
  /** `<workflowId>:charge`: the processor charges once per id, however often this retries. */
  chargeId: string;
  amountMinor: string;
  currency: string;
  source: FundingSource;
}

/**
 * What the charge came to. A decline is an answer, not a failure of the call, so it is
 * returned; `unknown` means the processor took the call but its answer was lost.
 */
export type ChargeFundingResult =
  | { status: 'succeeded'; processorChargeId: string }
  | { status: 'declined'; reason: string }
  | { status: 'unknown' };

export interface FundingRecord {
  fundingId: string;
  workflowId: string;
  customerId: string;
  accountId: string;
  amountMinor: string;
  currency: string;
  sourceType: FundingSource['type'];
}

/** A transfer between customers as its outcome is recorded: the workflow's input and its id. */
export type CustomerTransferRecord = CustomerTransferInput & { workflowId: string };

export function createWalletActivities({ db, funding }: { db: Db; funding: FundingProcessor }) {
  return {
    /** Throws on a transport failure (timeout, 5xx), so Temporal retries with the same charge id. */
    async chargeFunding(input: ChargeFundingInput): Promise<ChargeFundingResult> {
      return funding.charge({ ...input, amountMinor: parseAmountMinor(input.amountMinor) });
    },

    async getFundingCharge({ chargeId }: { chargeId: string }): Promise<ChargeStatus> {
      return funding.getCharge(chargeId);
    },

    /**
     * Writes the outcome. An upsert: the API inserts the row before it starts the
     * workflow, but should it have withdrawn the row after a start it believed failed,
     * the workflow that did run still leaves a complete record.
     */
    async recordFundingOutcome({ funding: f, outcome, processorChargeId }: { funding: FundingRecord; outcome: RequestOutcome; processorChargeId?: string }) {
      // A funding that moved no money gives its amount back to the day's limit.
      if (outcome.status === 'failed') await releaseLimit(db, f.fundingId);
      await db('wallet_fundings')
        .insert({
          id: f.fundingId,
          workflow_id: f.workflowId,
          user_id: f.customerId,
          account_id: f.accountId,
          amount_minor: f.amountMinor,
          currency: f.currency,
          source_type: f.sourceType,
          processor_charge_id: processorChargeId ?? null,
          ...outcomeColumns(outcome, db),
        })
        .onConflict('id')
        .merge([...OUTCOME_COLUMNS, 'processor_charge_id']);
    },

    async recordCustomerTransferOutcome({ transfer: t, outcome }: { transfer: CustomerTransferRecord; outcome: RequestOutcome }) {
      if (outcome.status === 'failed') await releaseLimit(db, t.transferId);
      await db('customer_transfers')
        .insert({
          id: t.transferId,
          workflow_id: t.workflowId,
          user_id: t.customerId,
          from_account_id: t.fromAccountId,
          to_account_id: t.toAccountId,
          to_user_id: t.toCustomerId,
          recipient: JSON.stringify(t.recipient),
          amount_minor: t.amountMinor,
          currency: t.currency,
          note: t.note,
          ...outcomeColumns(outcome, db),
        })
        .onConflict('id')
        .merge(OUTCOME_COLUMNS);
    },
  };
}
