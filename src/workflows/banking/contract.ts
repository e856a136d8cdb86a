/**
 * What the banking line's workflows take and answer (bank postings, and the transaction
 * alerts every money workflow sends): the only workflow module the API and the
 * activities import.
 */

/** The bank side's word for why it posts. */
export type BankPostingCode = 'deposit' | 'salary' | 'card_purchase' | 'fee' | 'adjustment';

export interface BankPostingInput {
  /** The ledger transfer's id, derived by the API from the bank side's Idempotency-Key. */
  postingId: string;
  /** The account's holder, for the CustomerId search attribute and the record. */
  customerId: string;
  accountId: string;
  direction: 'credit' | 'debit';
  amountMinor: string;
  currency: string;
  code: BankPostingCode;
  description: string;
}

export type BankPostingResult =
  | { postingId: string; status: 'succeeded'; alerts: HolderAlert[] }
  | { postingId: string; status: 'failed'; reason: string };

export type BankPostingWorkflow = (input: BankPostingInput) => Promise<BankPostingResult>;

/** What became of one transaction alert SMS. */
export type SendTransactionAlertResult =
  | { status: 'sent'; notificationId: string; fresh: boolean }
  /** `opted_out`: the holder turned alerts off; `no_holder`: a system or erased account. */
  | { status: 'skipped'; reason: 'opted_out' | 'no_holder' };

export type AlertOutcome = SendTransactionAlertResult | { status: 'failed'; reason: string };

export interface HolderAlert {
  accountId: string;
  outcome: AlertOutcome;
}
