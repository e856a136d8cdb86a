import { isLedgerError } from '../../ledger/errors';
import type { Ledger, LedgerErrorCode, SystemRole, TransferCode } from '../../ledger/types';
import { parseAmountMinor } from '../../money/money';
import { businessFailure, type BusinessFailureType } from '../../temporal/failures';

/** One side of a transfer: a customer account by id, or the system account of a role (in the transfer's currency). */
export type AccountRef = { accountId: string } | { systemRole: SystemRole };

export interface PostTransferInput {
  /** Derived from the workflow's business id by the API (`transferIdFrom`), never invented here. */
  transferId: string;
  debit: AccountRef;
  credit: AccountRef;
  /** Minor units as a decimal string: bigint does not cross Temporal's JSON boundary. */
  amountMinor: string;
  currency: string;
  code: TransferCode;
  metadata?: Record<string, unknown>;
}

export interface PostTransferResult {
  transferId: string;
  /** `exists`: an earlier attempt already posted it; nothing moved twice. */
  status: 'created' | 'exists';
}

/** Ledger refusals as the business failures workflows switch on; the rest are one bucket. */
const FAILURE_FOR: Partial<Record<LedgerErrorCode, BusinessFailureType>> = {
  insufficient_funds: 'insufficient_funds',
  exceeds_credit_limit: 'exceeds_credit_limit',
  account_not_found: 'account_not_found',
  currency_mismatch: 'currency_mismatch',
};

export function createLedgerActivities({ ledger }: { ledger: Ledger }) {
  async function resolve(ref: AccountRef, currency: string): Promise<string> {
    if ('accountId' in ref) return ref.accountId;
    return ledger.systemAccountId(ref.systemRole, currency);
  }

  return {
    /**
     * Posts one transfer. Idempotent by `transferId`: a retry after a crash finds the
     * transfer already applied and reports `exists`. A ledger refusal is a business
     * failure (retrying cannot change it); a database error is retried by Temporal.
     */
    async postTransfer(input: PostTransferInput): Promise<PostTransferResult> {
      const [debitAccountId, creditAccountId] = await Promise.all([resolve(input.debit, input.currency), resolve(input.credit, input.currency)]);
      try {
        const applied = await ledger.createTransfer({
          id: input.transferId,
          debitAccountId,
          creditAccountId,
          amountMinor: parseAmountMinor(input.amountMinor),
          currency: input.currency,
          code: input.code,
          metadata: input.metadata ?? {},
        });
        return { transferId: applied.transfer.id, status: applied.status };
      } catch (err) {
        if (!isLedgerError(err)) throw err;
        throw businessFailure(FAILURE_FOR[err.code] ?? 'transfer_rejected', `transfer ${input.transferId} refused: ${err.code}`, {
          code: err.code,
        });
      }
    },
  };
}
