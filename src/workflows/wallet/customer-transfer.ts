import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { CustomerTransferRecord } from '../../activities/wallet/wallet';
import { businessFailureOf } from '../../temporal/failures';
import { searchAttributes } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { alertHolders, type HolderAlert } from '../banking/alerts';

const { postTransfer, recordCustomerTransferOutcome } = proxyActivities<Activities>(profiles.database);

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

const setStatus = (value: string) => upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value }]);

/**
 * Moves money from one customer's account to another's wallet in one ledger transfer,
 * records the outcome and alerts both holders. The API checked the balance up front
 * for a fast answer; the ledger enforces it, so a race ends here as `insufficient_funds`.
 */
export async function customerTransfer(input: CustomerTransferInput): Promise<CustomerTransferResult> {
  const { transferId, fromAccountId, toAccountId, amountMinor, currency, note } = input;
  const record: CustomerTransferRecord = { ...input, workflowId: workflowInfo().workflowId };

  setStatus('posting');
  try {
    await postTransfer({
      transferId,
      debit: { accountId: fromAccountId },
      credit: { accountId: toAccountId },
      amountMinor,
      currency,
      code: 'p2p_transfer',
      metadata: note ? { description: note, note } : { description: 'Transfer between customers' },
    });
  } catch (err) {
    const failure = businessFailureOf(err);
    if (!failure) throw err;
    await recordCustomerTransferOutcome({ transfer: record, outcome: { status: 'failed', reason: failure.type } });
    setStatus('failed');
    return { transferId, status: 'failed', reason: failure.type };
  }
  await recordCustomerTransferOutcome({ transfer: record, outcome: { status: 'succeeded', transferId } });

  setStatus('alerting');
  const alerts = await alertHolders(transferId, [fromAccountId, toAccountId]);
  setStatus('succeeded');
  return { transferId, status: 'succeeded', alerts };
}
