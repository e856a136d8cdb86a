import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import type { ExpireIdempotencyKeysInput } from './contract';

const { deleteExpiredIdempotencyKeys, expirePendingHolds: expireHolds, retryPaymentRepairs } = proxyActivities<Activities>(profiles.database);

const DEFAULT_TTL_SECONDS = 24 * 3600;

/** Run hourly by a Schedule: forgets Idempotency-Keys older than 24 hours. */
export async function expireIdempotencyKeys(input: ExpireIdempotencyKeysInput = {}): Promise<{ deleted: number }> {
  return deleteExpiredIdempotencyKeys({ ttlSeconds: input.ttlSeconds ?? DEFAULT_TTL_SECONDS });
}

/**
 * Run every 15 minutes by a Schedule: no hold outlives its timeout, whatever happened to
 * its workflow. A payment under review holds its money without a timeout (see
 * `holdPaymentFundsForReview`), so this never releases money the biller may have.
 */
export async function expirePendingHolds(): Promise<{ expired: number }> {
  return expireHolds();
}

/**
 * Run every 10 minutes by a Schedule: credits that failed for good after a biller
 * accepted (cashback, referral bonus) are retried until credited, never undone.
 */
export async function repairPaymentCredits(): Promise<{ repaired: number; failed: number }> {
  return retryPaymentRepairs();
}
