import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AccountRef } from '../../activities/banking/ledger';
import type { BankPostingRecord } from '../../activities/banking/postings';
import type { TransferCode } from '../../ledger/types';
import { businessFailureOf } from '../../temporal/failures';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { alertHolders } from './alerts';
import type { BankPostingCode, BankPostingInput, BankPostingResult } from './contract';

const { postTransfer, recordBankPostingOutcome } = proxyActivities<Activities>(profiles.database);

/** The ledger's word for each bank-side posting code. */
const LEDGER_CODE: Record<BankPostingCode, TransferCode> = {
  deposit: 'bank_deposit',
  salary: 'salary',
  card_purchase: 'card_purchase',
  fee: 'fee',
  adjustment: 'adjustment',
};

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

  setBusinessStatus('posting');
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
    setBusinessStatus('failed');
    return { postingId, status: 'failed', reason: failure.type };
  }
  await recordBankPostingOutcome({ posting: record, outcome: { status: 'succeeded', transferId: postingId } });

  setBusinessStatus('alerting');
  const alerts = await alertHolders(postingId, [accountId]);
  setBusinessStatus('succeeded');
  return { postingId, status: 'succeeded', alerts };
}
