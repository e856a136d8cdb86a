import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { cashbackHold, plainHold, type HoldPlan } from '../../payments/hold-legs';
import { profiles } from '../shared/activity-profiles';
import type { BillRun, BillTerms } from './bill-run';

const { spendableCashback } = proxyActivities<Activities>(profiles.database);

/** Patch id: a payment with `useCashback` spends the payer's cashback first. */
export const SPEND_CASHBACK = 'payment-spend-cashback';

/**
 * The hold's legs (docs/payments.md, "Paying with cashback"; src/payments/hold-legs.ts).
 * The cashback balance read here is only a plan: cashback spent meanwhile makes the
 * ledger refuse the whole hold.
 */
export async function planHold(run: BillRun, terms: BillTerms): Promise<HoldPlan> {
  const { input } = run;
  const amountMinor = BigInt(input.amountMinor);
  const feeMinor = BigInt(terms.feeMinor);
  if (!input.useCashback || !patched(SPEND_CASHBACK)) return plainHold(amountMinor, feeMinor);
  const spendable = await spendableCashback({ userId: input.userId, currency: input.currency });
  const plan = cashbackHold(amountMinor, feeMinor, input.currency, { accountId: spendable.accountId, availableMinor: BigInt(spendable.availableMinor) });
  run.earningBaseMinor = plan.earningBaseMinor;
  return plan;
}
