/**
 * The workflows the payments bench runs: finflow's own, plus its baseline. Lives beside
 * the bench, not in src/workflows, so production workers never register it.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { profiles } from '../src/workflows/shared/activity-profiles';
import { paymentProfiles } from '../src/workflows/payments/profiles';
import type { createBaselineActivities } from './payments';

export * from '../src/workflows';

type BaselineActivities = ReturnType<typeof createBaselineActivities>;
const { noop } = proxyActivities<BaselineActivities>(profiles.database);
const { noopLocal } = proxyLocalActivities<BaselineActivities>(paymentProfiles.record);

/**
 * payBill's shape with every activity a no-op: the same 10 activities and 7 local
 * activities, in the same order and the same parallel groups, so that the bench's
 * baseline costs what Temporal costs for a payment and nothing else.
 */
export async function noopPayment(): Promise<void> {
  await noopLocal(); // openPayment
  await Promise.all([noop(), noop()]); // validateBillerCustomer, quoteBillPayment
  await noopLocal(); // validate succeeded
  await noop(); // holdPaymentFunds
  await noopLocal(); // pay_biller running
  await noop(); // payBiller
  await noopLocal(); // pay_biller succeeded
  await noop(); // postPaymentHolds
  await noop(); // creditCashback
  await noop(); // creditReferralBonus
  await noopLocal(); // recordCashback
  await Promise.all([noop(), noop(), noop()]); // alerts: amount, fee, cashback
  await noopLocal(); // notify succeeded
  await noopLocal(); // finishPayment
}
