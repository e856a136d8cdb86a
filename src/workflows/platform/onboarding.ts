import { condition, defineSignal, patched, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { searchAttributes, signalNames } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';

const { sendWelcome } = proxyActivities<Activities>(profiles.provider);

export interface OnboardingInput {
  customerId: string;
}

export interface OnboardingResult {
  /** Null when the phone was never verified within the wait, so no welcome was sent. */
  notificationId: string | null;
}

/** Sent by POST /v1/me/verifications/confirm once the customer's phone is verified. */
export const phoneVerified = defineSignal(signalNames.phoneVerified);

/** How long onboarding waits for the phone to be verified before it gives up on the welcome. */
export const WELCOME_WAIT = '30 days';

/**
 * Histories recorded before verification existed sent the welcome at once; they replay
 * down that path. New runs greet only a verified phone: an unverified number may be
 * someone else's.
 */
export const WELCOME_VERIFIED_PHONE_ONLY = 'welcome-verified-phone-only';

/** Started by signup: greets the new customer once, whatever retries happen, once their phone is verified. */
export async function onboarding({ customerId }: OnboardingInput): Promise<OnboardingResult> {
  let verified = false;
  setHandler(phoneVerified, () => {
    verified = true;
  });
  const dedupeKey = `${workflowInfo().workflowId}:welcome`;
  if (!patched(WELCOME_VERIFIED_PHONE_ONLY)) {
    upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'welcoming' }]);
    const { notificationId } = await sendWelcome({ customerId, dedupeKey });
    upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'completed' }]);
    return { notificationId };
  }

  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'awaiting_phone_verification' }]);
  if (!(await condition(() => verified, WELCOME_WAIT))) {
    upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'completed' }]);
    return { notificationId: null };
  }
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'welcoming' }]);
  const { notificationId } = await sendWelcome({ customerId, dedupeKey, requireVerifiedPhone: true });
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value: 'completed' }]);
  return { notificationId };
}
