import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { searchAttributes } from '../temporal/names';
import { profiles } from './activity-profiles';

const { sendWelcome } = proxyActivities<Activities>(profiles.provider);

export interface OnboardingInput {
  customerId: string;
}

export interface OnboardingResult {
  notificationId: string;
}

/** Started by signup: greets the new customer once, whatever retries happen. */
export async function onboarding({ customerId }: OnboardingInput): Promise<OnboardingResult> {
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'welcoming' }]);
  const { notificationId } = await sendWelcome({ customerId, dedupeKey: `${workflowInfo().workflowId}:welcome` });
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'completed' }]);
  return { notificationId };
}
