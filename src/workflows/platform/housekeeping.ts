import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import type { AbandonedRequests } from '../../activities/platform/request-starts';
import type { ExpireIdempotencyKeysInput } from './contract';

const { deleteExpiredIdempotencyKeys, expirePendingHolds: expireHolds, retryPaymentRepairs } = proxyActivities<Activities>(profiles.database);
const { startAbandonedRequests: startAbandoned } = proxyActivities<Activities>({ ...profiles.database, startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds' });

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

/** Requests processing this long after their row was claimed have lost their API's start. */
const DEFAULT_ABANDONED_AFTER_SECONDS = 120;

/**
 * Run every 5 minutes by a Schedule: a money request whose workflow never started (the
 * API process killed between claiming the row and starting it) is started from the
 * start recorded with its row, so an accepted request is carried out even if its client
 * never asks again.
 */
export async function startAbandonedRequests(input: { olderThanSeconds?: number } = {}): Promise<AbandonedRequests> {
  return startAbandoned({ olderThanSeconds: input.olderThanSeconds ?? DEFAULT_ABANDONED_AFTER_SECONDS });
}
