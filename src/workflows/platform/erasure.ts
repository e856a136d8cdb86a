import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import { ERASURE_STEPS, type EraseUserInput, type EraseUserResult, type ErasureStepResult } from './contract';

/**
 * Erases a customer (DELETE /v1/me), workflow id `erasure:<customerId>`: each step of
 * ERASURE_STEPS in order, each idempotent, so a crashed or retried erasure resumes by
 * running them again. Its result lists what each step erased.
 */

const { runErasureStep } = proxyActivities<Activities>({ ...profiles.database, startToCloseTimeout: '2 minutes' });

export async function eraseUser({ userId }: EraseUserInput): Promise<EraseUserResult> {
  const steps: ErasureStepResult[] = [];
  for (const step of ERASURE_STEPS) steps.push(await runErasureStep({ userId, step }));
  return { userId, steps };
}
