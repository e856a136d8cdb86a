import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { CustomerTransferRecord } from '../../activities/wallet/wallet';
import { businessFailureOf } from '../../temporal/failures';
import { profiles } from '../shared/activity-profiles';
import { alertHolders } from '../banking/alerts';
import { setBusinessStatus } from '../shared/business-status';
import type { CustomerTransferInput, CustomerTransferResult } from './contract';

const { postTransfer, recordCustomerTransferOutcome } = proxyActivities<Activities>(profiles.database);

/**
 * Moves money from one customer's account to another's wallet in one ledger transfer,
 * records the outcome and alerts both holders. The API checked the balance up front
 * for a fast answer; the ledger enforces it, so a race ends here as `insufficient_funds`.
 */
export async function customerTransfer(input: CustomerTransferInput): Promise<CustomerTransferResult> {
  const { transferId, fromAccountId, toAccountId, amountMinor, currency, note } = input;
  const record: CustomerTransferRecord = { ...input, workflowId: workflowInfo().workflowId };

  setBusinessStatus('posting');
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
    setBusinessStatus('failed');
    return { transferId, status: 'failed', reason: failure.type };
  }
  await recordCustomerTransferOutcome({ transfer: record, outcome: { status: 'succeeded', transferId } });

  setBusinessStatus('alerting');
  const alerts = await alertHolders(transferId, [fromAccountId, toAccountId]);
  setBusinessStatus('succeeded');
  return { transferId, status: 'succeeded', alerts };
}
