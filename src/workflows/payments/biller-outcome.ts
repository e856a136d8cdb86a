import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { businessFailure, businessFailureOf } from '../../temporal/failures';
import { setBusinessStatus } from '../shared/business-status';
import { isStepFailure } from '../shared/failures';
import { pollWithBackoff, type PollBackoff } from '../shared/status-poll';
import type { PayBillInput } from './contract';
import { paymentProfiles } from './profiles';

const { payBiller, getBillerPaymentStatus } = proxyActivities<Activities>(paymentProfiles.biller);

/** An unknown biller outcome is polled from 5 s, doubling to 15 min, for at most 3 days (well inside the hold). */
const BILLER_STATUS_POLL: PollBackoff = { firstDelayMs: 5_000, maxDelayMs: 15 * 60_000, maxWaitMs: 3 * 24 * 3600_000 };

/** Patch id: an unknown biller outcome waits for an operator instead of failing `biller_unavailable`. */
export const UNKNOWN_OUTCOME_REVIEW = 'payment-unknown-outcome-review';

export type BillerOutcome = { status: 'accepted'; billerReference: string } | { status: 'unknown'; reason: string };

type PayAttempt = { status: 'accepted'; billerReference: string } | { status: 'unknown' } | { status: 'unreachable' } | { status: 'withdrawn' };

/**
 * An outcome nobody knows (the biller unreachable through every retry and every status
 * query, pending past the wait, or withdrawn mid-payment): in review since the patch,
 * a `biller_unavailable` failure in histories recorded before it.
 */
function unknownOutcome(reason: string): BillerOutcome {
  if (!patched(UNKNOWN_OUTCOME_REVIEW)) throw businessFailure('biller_unavailable', reason);
  return { status: 'unknown', reason };
}

/**
 * Pays the biller and finds out what became of it. A decline fails the step
 * (`biller_declined`). An `unknown` answer, or a biller unreachable through every retry,
 * is followed by status queries with backoff: a payment the biller never received is
 * paid again under the same id, one still pending is waited for, and when the biller
 * stays unreachable, or the wait runs out, nobody knows the outcome. `recordsRunning`:
 * the payment activity records `pay_biller: running` itself (payBillV3).
 */
export async function billerOutcome(input: PayBillInput, options: { recordsRunning?: boolean } = {}): Promise<BillerOutcome> {
  const { paymentId, billerId, customerRef, amountMinor, currency } = input;
  const pay = async (): Promise<PayAttempt> => {
    try {
      return await payBiller({ paymentId, billerId, customerRef, amountMinor, currency, ...(options.recordsRunning ? { recordsRunning: true } : {}) });
    } catch (err) {
      // A biller withdrawn after validation may have taken an earlier attempt: nobody knows.
      if (businessFailureOf(err)?.type === 'biller_not_found') return { status: 'withdrawn' };
      // A refusal is an answer; only a biller that never answered is unreachable.
      if (!isStepFailure(err) || businessFailureOf(err)) throw err;
      return { status: 'unreachable' };
    }
  };
  const status = async () => {
    try {
      return await getBillerPaymentStatus({ billerId, paymentId });
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      return { status: 'unreachable' as const };
    }
  };

  let outcome = await pay();
  let known: Awaited<ReturnType<typeof status>> | undefined;
  const answer = await pollWithBackoff<BillerOutcome>(
    BILLER_STATUS_POLL,
    async () => {
      // The biller never received it: pay again under the same id.
      if (known?.status === 'not_found') outcome = await pay();
      if (outcome.status === 'accepted') return outcome;
      if (outcome.status === 'withdrawn') {
        // Before the patch this failure ended the payment straight away.
        if (!patched(UNKNOWN_OUTCOME_REVIEW)) throw businessFailure('biller_not_found', `no active biller ${billerId}`);
        return { status: 'unknown', reason: `biller ${billerId} was withdrawn during payment ${paymentId}` };
      }
      // After every payment call failed, one status query decides whether the biller has it.
      known = await status();
      if (known.status === 'accepted') return { status: 'accepted', billerReference: known.billerReference };
      if (known.status === 'declined') throw businessFailure('biller_declined', `the biller declined payment ${paymentId}: ${known.reason}`);
      if (outcome.status === 'unreachable' && (known.status === 'unreachable' || known.status === 'not_found')) {
        return unknownOutcome(`the biller could not be reached for payment ${paymentId}`);
      }
      return undefined;
    },
    { beforeSleep: () => setBusinessStatus('awaiting_biller_outcome') },
  );
  return answer ?? unknownOutcome(`no outcome from the biller for payment ${paymentId}`);
}
