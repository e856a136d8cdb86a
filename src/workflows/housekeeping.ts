import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { profiles } from './activity-profiles';

const { deleteExpiredIdempotencyKeys } = proxyActivities<Activities>(profiles.database);

export interface ExpireIdempotencyKeysInput {
  ttlSeconds?: number;
}

const DEFAULT_TTL_SECONDS = 24 * 3600;

/** Run hourly by a Schedule: forgets Idempotency-Keys older than 24 hours. */
export async function expireIdempotencyKeys(input: ExpireIdempotencyKeysInput = {}): Promise<{ deleted: number }> {
  return deleteExpiredIdempotencyKeys({ ttlSeconds: input.ttlSeconds ?? DEFAULT_TTL_SECONDS });
}
