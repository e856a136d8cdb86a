import { condition, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { phoneVerified, type OnboardingInput, type OnboardingResult } from './contract';

const { sendWelcome } = proxyActivities<Activities>(profiles.provider);

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
  const idempotencyKey = `${workflowInfo().workflowId}:welcome`;
  if (!patched(WELCOME_VERIFIED_PHONE_ONLY)) {
    setBusinessStatus('welcoming');
    const { notificationId } = await sendWelcome({ customerId, dedupeKey: idempotencyKey });
    setBusinessStatus('completed');
    return { notificationId };
  }

  setBusinessStatus('awaiting_phone_verification');
  if (!(await condition(() => verified, WELCOME_WAIT))) {
    setBusinessStatus('completed');
    return { notificationId: null };
  }
  setBusinessStatus('welcoming');
  const { notificationId } = await sendWelcome({ customerId, dedupeKey: idempotencyKey, requireVerifiedPhone: true });
  setBusinessStatus('completed');
  return { notificationId };
}
