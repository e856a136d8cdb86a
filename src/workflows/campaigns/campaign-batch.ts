import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { workflowNowMs } from './clock';
import type { CampaignBatchInput, CampaignBatchResult } from './contract';

/**
 * One batch of a campaign's audience (a child of campaignRollout): calls
 * sendCampaignBatch until the batch is done or stopped. A short wait (a call that used
 * its time budget, a claim about to go stale) is slept here; a long one (contacts whose
 * send window opens hours later) goes back to the rollout, which holds it as a durable
 * timer, so a waiting batch does not hold a slot of the window.
 */

const { sendCampaignBatch } = proxyActivities<Activities>({
  // A batch's call sends for at most a minute of its time budget, then hands back.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  // A provider outage: retry with backoff until it is over; nothing is lost (claims are released) or sent twice.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

/** Waits this short are slept by the batch; longer ones go back to the rollout. */
export const BATCH_SHORT_WAIT_MS = 2 * 60_000;

export async function campaignBatch(input: CampaignBatchInput): Promise<CampaignBatchResult> {
  for (;;) {
    const result = await sendCampaignBatch({ ...input, at: new Date(workflowNowMs()).toISOString() });
    if (result.outcome !== 'waiting' || !result.dueAt) return result;
    const waitMs = Date.parse(result.dueAt) - workflowNowMs();
    if (waitMs > BATCH_SHORT_WAIT_MS) return result;
    if (waitMs > 0) await sleep(waitMs);
  }
}
