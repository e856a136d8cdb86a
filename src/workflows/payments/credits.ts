import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PaymentRepair } from '../../activities/payments/payments';
import { profiles } from '../shared/activity-profiles';
import { failureDetail, isStepFailure } from '../shared/failures';
import type { BillRun } from './bill-run';
import { reverse } from './payment-steps';
import { paymentProfiles } from './profiles';

const { creditCashback, creditReferralBonus, queuePaymentRepairs } = proxyActivities<Activities>(profiles.database);
const { recordCashback } = proxyLocalActivities<Activities>(paymentProfiles.record);

/** A credit the payment earned, and the account it went to (for its alert). */
export interface Credit {
  transferId: string;
  accountId: string;
}

/**
 * Credits the payment's cashback (capped monthly), then the referrer's bonus if this is
 * the payer's first payment; answers what was credited.
 */
export async function creditCashbackAndBonus({ input, workflowId, steps, saga }: BillRun): Promise<Credit[]> {
  const { paymentId, userId, amountMinor, currency, billerId } = input;
  steps.begin('cashback');
  const cashback = await creditCashback({ paymentId, userId, amountMinor, currency, billerId, transferKey: `${workflowId}:cashback` });
  const { transferId } = cashback;
  if (transferId) saga.add('cashback', () => reverse(paymentId, 'cashback', `${workflowId}:reverse:cashback`, [transferId]));
  const bonus = await creditReferralBonus({ referredUserId: userId, currency });
  const bonusTransferId = bonus.status === 'credited' ? bonus.transferId : null;
  const accounts = await recordCashback({ paymentId, cashbackMinor: cashback.cashbackMinor, transferId, bonusTransferId });
  steps.note('cashback', 'succeeded');
  return creditsMade(transferId, bonusTransferId, accounts);
}

/**
 * The forward-only cashback step: credits the cashback and the referral bonus; a credit
 * that fails for good is queued for the repair Schedule and the payment goes on (the
 * biller has the money: nothing is undone for a credit). Credits made are alerted.
 */
export async function creditOrQueueRepairs({ input, workflowId, steps, earningBaseMinor }: BillRun): Promise<Credit[]> {
  const { paymentId, userId, currency, billerId } = input;
  // A payment that spent cashback earns only on what the account paid of the amount.
  const amountMinor = earningBaseMinor ?? input.amountMinor;
  steps.begin('cashback');
  const repairs: PaymentRepair[] = [];
  const attempt = async <T>(credit: PaymentRepair['credit'], request: Record<string, unknown>, call: () => Promise<T>): Promise<T | null> => {
    try {
      return await call();
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      repairs.push({ credit, input: request, reason: failureDetail(err) });
      return null;
    }
  };
  const cashbackRequest = { paymentId, userId, amountMinor, currency, billerId, transferKey: `${workflowId}:cashback` };
  const bonusRequest = { referredUserId: userId, currency };
  const nothingToEarn = amountMinor === '0' ? { cashbackMinor: '0', transferId: null } : null;
  const cashback = nothingToEarn ?? (await attempt('cashback', cashbackRequest, () => creditCashback(cashbackRequest)));
  const bonus = await attempt('referral_bonus', bonusRequest, () => creditReferralBonus(bonusRequest));
  if (repairs.length > 0) {
    await queuePaymentRepairs({ paymentId, repairs });
    steps.note('cashback', 'failed', 'queued for repair');
    return [];
  }
  const transferId = cashback?.transferId ?? null;
  const bonusTransferId = bonus?.status === 'credited' ? bonus.transferId : null;
  const accounts = await recordCashback({ paymentId, cashbackMinor: cashback?.cashbackMinor ?? '0', transferId, bonusTransferId });
  steps.note('cashback', 'succeeded');
  return creditsMade(transferId, bonusTransferId, accounts);
}

function creditsMade(
  transferId: string | null,
  bonusTransferId: string | null,
  accounts: { cashbackAccountId: string | null; bonusAccountId: string | null },
): Credit[] {
  const credits: Array<Credit | null> = [
    transferId && accounts.cashbackAccountId ? { transferId, accountId: accounts.cashbackAccountId } : null,
    bonusTransferId && accounts.bonusAccountId ? { transferId: bonusTransferId, accountId: accounts.bonusAccountId } : null,
  ];
  return credits.filter((c): c is Credit => c !== null);
}
