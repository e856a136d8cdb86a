import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { dedupeKeys } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { innermostMessage } from '../shared/failures';
import type { AlertOutcome, HolderAlert } from './contract';

/**
 * SMS alerts for posted transfers, as a helper any money workflow calls once its
 * transfer is posted (not a workflow of its own: the alert belongs to the story of the
 * workflow that moved the money, and lives in its history).
 */

const { sendTransactionAlert } = proxyActivities<Activities>(profiles.provider);
const { recordNotificationFailure } = proxyActivities<Activities>(profiles.database);

/**
 * Alerts the holder of each account (a customer side of `transferId`), in parallel.
 * Each alert is sent once per (transfer, account) whatever retries or crashes happen.
 * An alert that still fails after its retries is recorded as failed in the outbox with
 * the reason; it never fails the money workflow, whose transfer is already posted.
 */
export async function alertHolders(transferId: string, accountIds: readonly string[]): Promise<HolderAlert[]> {
  return Promise.all(accountIds.map(async (accountId) => ({ accountId, outcome: await alertHolder(transferId, accountId) })));
}

async function alertHolder(transferId: string, accountId: string): Promise<AlertOutcome> {
  try {
    return await sendTransactionAlert({ transferId, accountId });
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = innermostMessage(err);
    await recordNotificationFailure({ dedupeKey: dedupeKeys.transactionAlert(transferId, accountId), reason });
    return { status: 'failed', reason };
  }
}
