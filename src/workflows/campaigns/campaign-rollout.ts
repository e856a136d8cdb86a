import { ParentClosePolicy, condition, continueAsNew, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { workflowNowMs } from './clock';
import { profiles } from '../shared/activity-profiles';
import { campaignBatch } from './campaign-batch';
import {
  ROLLOUT_WINDOW,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  rolloutProgressQuery,
  type CampaignBatchResult,
  type CampaignControlResult,
  type CampaignRolloutInput,
  type CampaignRolloutResult,
  type RolloutProgress,
} from './contract';

/**
 * A campaign's rollout (docs/campaigns.md):
 *
 *   wait for scheduleAt → plan (segment → numbered messages) → run the batches as child
 *   workflows, at most WINDOW at a time → a batch whose contacts wait for their send
 *   window comes back with a due time and is run again then (a durable timer) → done.
 *
 * pause / resume / cancel are updates: they move the campaign's status (which running
 * batches read between chunks) and stop or restart new batches here. The history stays
 * bounded at any audience size: the run carries only counters and the deferred batches,
 * and continues as new once its history grows past HISTORY_LIMIT.
 */

const { setCampaignStatus } = proxyActivities<Activities>(profiles.database);
// One statement queues the whole audience (tens of seconds at a million contacts); it heartbeats meanwhile.
const { planCampaign } = proxyActivities<Activities>({ ...profiles.database, startToCloseTimeout: '20 minutes', heartbeatTimeout: '30 seconds' });

/** Batches in flight at once. */
export const WINDOW = ROLLOUT_WINDOW;
/** Events after which a run drains its children and continues as new. */
export const HISTORY_LIMIT = 5_000;

export async function campaignRollout(input: CampaignRolloutInput): Promise<CampaignRolloutResult> {
  const { campaignId } = input;
  let cancelled = false;
  let progress: RolloutProgress | undefined = input.progress;
  let paused = progress?.paused ?? false;
  let running = 0;

  setHandler(rolloutProgressQuery, () => progress && { ...progress, paused });
  setHandler(pauseCampaignUpdate, async (): Promise<CampaignControlResult> => {
    paused = true;
    await setCampaignStatus({ campaignId, status: 'paused' });
    return { status: 'paused' };
  });
  setHandler(resumeCampaignUpdate, async (): Promise<CampaignControlResult> => {
    paused = false;
    await setCampaignStatus({ campaignId, status: 'running' });
    return { status: progress ? 'running' : 'scheduled' };
  });
  setHandler(cancelCampaignUpdate, async (): Promise<CampaignControlResult> => {
    cancelled = true;
    await setCampaignStatus({ campaignId, status: 'cancelled' });
    return { status: 'cancelled' };
  });

  if (!progress) {
    const waitMs = input.scheduleAt ? Date.parse(input.scheduleAt) - workflowNowMs() : 0;
    if (waitMs > 0) await condition(() => cancelled, waitMs);
    if (cancelled) return { status: 'cancelled', batchCount: 0 };
    const plan = await planCampaign({ campaignId });
    progress = { batchCount: plan.batchCount, batchSize: plan.batchSize, nextBatch: 0, deferred: [], paused };
  }
  const state: RolloutProgress = progress;

  const dueDeferred = () => state.deferred.findIndex((d) => !d.dueAt || Date.parse(d.dueAt) <= workflowNowMs());
  const canStart = () => !paused && running < WINDOW && (dueDeferred() >= 0 || state.nextBatch < state.batchCount);
  const finished = () => running === 0 && state.nextBatch >= state.batchCount && state.deferred.length === 0;
  const tooLong = () => workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested;

  // Bumped whenever a batch hands back, so a wait started before it re-reads the due times.
  let handedBack = 0;
  const onResult = (batch: number) => (result: CampaignBatchResult) => {
    running--;
    handedBack++;
    if (result.outcome === 'paused' || result.outcome === 'waiting') state.deferred.push({ batch, ...(result.dueAt ? { dueAt: result.dueAt } : {}) });
  };

  for (;;) {
    if (cancelled || finished()) break;
    if (tooLong()) {
      await condition(() => running === 0);
      await continueAsNew<typeof campaignRollout>({ campaignId, progress: { ...state, paused } });
    }
    if (canStart()) {
      const index = dueDeferred();
      const batch = index >= 0 ? (state.deferred.splice(index, 1)[0] as { batch: number }).batch : state.nextBatch++;
      running++;
      const child = await startChild(campaignBatch, {
        workflowId: `${workflowInfo().workflowId}:batch-${batch}:${workflowInfo().runId.slice(0, 8)}-${workflowInfo().historyLength}`,
        args: [{ campaignId, batch, batchSize: state.batchSize }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
      // A batch that failed outright (it should not: its activity retries) is tried again in a minute.
      void child.result().then(onResult(batch), () => onResult(batch)({ outcome: 'waiting', dueAt: new Date(workflowNowMs() + 60_000).toISOString() }));
      continue;
    }
    const nextDue = Math.min(...state.deferred.map((d) => (d.dueAt ? Date.parse(d.dueAt) : Infinity)));
    const timeoutMs = Number.isFinite(nextDue) ? Math.max(1, nextDue - workflowNowMs()) : undefined;
    const seen = handedBack;
    const changed = () => cancelled || handedBack !== seen || canStart() || finished() || (tooLong() && running === 0);
    if (timeoutMs === undefined) await condition(changed);
    else await condition(changed, timeoutMs);
  }

  await condition(() => running === 0);
  if (cancelled) return { status: 'cancelled', batchCount: state.batchCount };
  await setCampaignStatus({ campaignId, status: 'completed' });
  return { status: 'completed', batchCount: state.batchCount };
}
