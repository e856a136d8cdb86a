import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ResolveHoldsInput } from '../../activities/payments/payments';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { isStepFailure } from '../shared/failures';
import type { BillRun, BillTerms } from './bill-run';
import { reverse } from './payment-steps';

const { postPaymentHolds } = proxyActivities<Activities>(profiles.database);

/** A posting the ledger refuses after the biller accepted is retried from 1 min, doubling to 1 h, until it succeeds. */
const FIRST_POST_RETRY_MS = 60_000;
const MAX_POST_RETRY_MS = 3600_000;

/** Posts the holds; from then on the undo is a reversal of the postings, not a void. */
export async function post({ input, workflowId, steps, saga, forwardOnly }: BillRun, holdIds: string[], terms: BillTerms): Promise<string[]> {
  const { paymentId } = input;
  steps.begin('post');
  const request: ResolveHoldsInput = { paymentId, key: `${workflowId}:post`, holdIds, description: terms.description };
  const { transferIds } = forwardOnly ? await untilPosted(() => postPaymentHolds(request)) : await postPaymentHolds(request);
  steps.note('post', 'succeeded');
  saga.supersede('hold');
  saga.add('post', () => reverse(paymentId, 'post', `${workflowId}:reverse:post`, transferIds));
  return transferIds;
}

/**
 * After the biller accepted, the posting is the only way forward: a refusal is retried
 * with backoff until it succeeds (the posting is idempotent under its key), while the
 * BusinessStatus `post_retrying` shows operators a payment stuck there. Not bounded on
 * purpose: the biller has the money, and giving up would leave the books wrong.
 */
export async function untilPosted<T>(posting: () => Promise<T>): Promise<T> {
  for (let delayMs = FIRST_POST_RETRY_MS; ; delayMs = Math.min(delayMs * 2, MAX_POST_RETRY_MS)) {
    try {
      return await posting();
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      setBusinessStatus('post_retrying');
      await sleep(delayMs);
      setBusinessStatus('post');
    }
  }
}
