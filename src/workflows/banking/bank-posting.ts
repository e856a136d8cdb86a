import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AccountRef } from '../../activities/banking/ledger';
import type { BankPostingRecord } from '../../activities/wallet/wallet';
import type { TransferCode } from '../../ledger/types';
import { businessFailureOf } from '../../temporal/failures';
import { searchAttributes } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { alertHolders, type HolderAlert } from './alerts';

const { postTransfer, recordBankPostingOutcome } = proxyActivities<Activities>(profiles.database);

export type BankPostingCode = BankPostingRecord['code'];

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

/** The ledger's word for each bank-side posting code. */
const LEDGER_CODE: Record<BankPostingCode, TransferCode> = {
  deposit: 'bank_deposit',
  salary: 'salary',
  card_purchase: 'card_purchase',
  fee: 'fee',
  adjustment: 'adjustment',
};

const setStatus = (value: string) => upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value }]);

/**
 * A deposit or a debit the bank side posts to a customer account. The other side is the
 * funding clearing account, except that a fee is earned: it credits fee revenue. The
 * ledger enforces the account's rule, so an overdraft or a card past its limit ends as
 * a failed posting with the reason; a posted one alerts the holder.
 */
export async function bankPosting(input: BankPostingInput): Promise<BankPostingResult> {
  const { postingId, accountId, direction, amountMinor, currency, code, description } = input;
  const record: BankPostingRecord = { postingId, workflowId: workflowInfo().workflowId, accountId, direction, amountMinor, currency, code, description };
  const customer: AccountRef = { accountId };
  const counterparty: AccountRef = { systemRole: code === 'fee' ? 'fee_revenue' : 'funding_clearing' };

  setStatus('posting');
  try {
    await postTransfer({
      transferId: postingId,
      debit: direction === 'debit' ? customer : counterparty,
      credit: direction === 'credit' ? customer : counterparty,
      amountMinor,
      currency,
      code: LEDGER_CODE[code],
      metadata: { postingId, description },
    });
  } catch (err) {
    const failure = businessFailureOf(err);
    if (!failure) throw err;
    await recordBankPostingOutcome({ posting: record, outcome: { status: 'failed', reason: failure.type } });
    setStatus('failed');
    return { postingId, status: 'failed', reason: failure.type };
  }
  await recordBankPostingOutcome({ posting: record, outcome: { status: 'succeeded', transferId: postingId } });

  setStatus('alerting');
  const alerts = await alertHolders(postingId, [accountId]);
  setStatus('succeeded');
  return { postingId, status: 'succeeded', alerts };
}
