import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { profiles } from './activity-profiles';

const { deleteExpiredIdempotencyKeys, expirePendingHolds: expireHolds } = proxyActivities<Activities>(profiles.database);

export interface ExpireIdempotencyKeysInput {
  ttlSeconds?: number;
}

const DEFAULT_TTL_SECONDS = 24 * 3600;

/** Run hourly by a Schedule: forgets Idempotency-Keys older than 24 hours. */
export async function expireIdempotencyKeys(input: ExpireIdempotencyKeysInput = {}): Promise<{ deleted: number }> {
  return deleteExpiredIdempotencyKeys({ ttlSeconds: input.ttlSeconds ?? DEFAULT_TTL_SECONDS });
}

/** Run every 15 minutes by a Schedule: no hold outlives its timeout, whatever happened to its workflow. */
export async function expirePendingHolds(): Promise<{ expired: number }> {
  return expireHolds();
}
