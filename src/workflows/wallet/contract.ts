import type { FundingSource } from '../../providers/funding/port';
import type { HolderAlert } from '../banking/contract';

/**
 * What the wallet line's workflows take and answer (wallet funding, transfers between
 * customers): the only workflow module the API and the activities import.
 */

export interface WalletFundingInput {
  /** Also the id of the ledger transfer that credits the wallet (derived by the API from the Idempotency-Key). */
  fundingId: string;
  customerId: string;
  accountId: string;
  amountMinor: string;
  currency: string;
  source: FundingSource;
}

export type WalletFundingResult =
  | { fundingId: string; status: 'succeeded'; transferId: string; alerts: HolderAlert[] }
  | { fundingId: string; status: 'failed'; reason: string };

export type WalletFundingWorkflow = (input: WalletFundingInput) => Promise<WalletFundingResult>;

export interface CustomerTransferInput {
  /** The ledger transfer's id, derived by the API from the sender's Idempotency-Key. */
  transferId: string;
  customerId: string;
  fromAccountId: string;
  toAccountId: string;
  toCustomerId: string;
  /** The recipient as the sender named them. */
  recipient: { email: string } | { phone: string };
  amountMinor: string;
  currency: string;
  note: string | null;
}

export type CustomerTransferResult =
  | { transferId: string; status: 'succeeded'; alerts: HolderAlert[] }
  | { transferId: string; status: 'failed'; reason: string };

export type CustomerTransferWorkflow = (input: CustomerTransferInput) => Promise<CustomerTransferResult>;
