import { defineSignal } from '@temporalio/workflow';
import { signalNames } from '../../temporal/names';

/**
 * What the platform's workflows take, answer and accept (onboarding and the housekeeping
 * Schedules' runs): the only workflow module the API and the activities import.
 */

export interface OnboardingInput {
  customerId: string;
}

export interface OnboardingResult {
  /** Null when the phone was never verified within the wait, so no welcome was sent. */
  notificationId: string | null;
}

/** Sent by POST /v1/me/verifications/confirm once the customer's phone is verified. */
export const phoneVerified = defineSignal(signalNames.phoneVerified);

export type OnboardingWorkflow = (input: OnboardingInput) => Promise<OnboardingResult>;

export interface ExpireIdempotencyKeysInput {
  ttlSeconds?: number;
}

export type ExpireIdempotencyKeysWorkflow = (input?: ExpireIdempotencyKeysInput) => Promise<{ deleted: number }>;
export type ExpirePendingHoldsWorkflow = () => Promise<{ expired: number }>;
export type RepairPaymentCreditsWorkflow = () => Promise<{ repaired: number; failed: number }>;
