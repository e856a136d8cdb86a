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

// Erasure of a customer (DELETE /v1/me; docs/invoices.md, "Erasure").

/**
 * The steps of an erasure, in the order they run. Each is idempotent, so a crashed
 * erasure resumes by running them again; a product line that stores more about a
 * customer adds its step here and in src/activities/platform/erasure.ts.
 */
export const ERASURE_STEPS = ['schedules', 'tokens', 'mailbox', 'invoices', 'statements', 'objects', 'ledger', 'user', 'sweep', 'forget'] as const;

export type ErasureStep = (typeof ERASURE_STEPS)[number];

/** One erasure step: what it erased, as counts per table or kind. */
export interface ErasureStepResult {
  step: ErasureStep;
  erased: Record<string, number>;
}

export interface EraseUserInput {
  userId: string;
}

export interface EraseUserResult {
  userId: string;
  steps: ErasureStepResult[];
}

export type EraseUserWorkflow = (input: EraseUserInput) => Promise<EraseUserResult>;
