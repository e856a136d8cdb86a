import { continueAsNew, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import type { IngestCardFileInput, IngestCardFileResult, IngestCardFileWorkflow } from './contract';

/**
 * One partner file, started as `card-file:<sha256>` (docs/cards.md):
 *
 *   check the file (or record it rejected) → read and commit it batch by batch, each
 *   batch from the offset the previous one committed → mark it completed.
 *
 * Activities answer counters only, so the history holds no row of the file. A run
 * continues as new every BATCHES_PER_RUN batches, so a file of any size keeps a short
 * history; a worker that dies mid-batch leaves the offset where the last commit put it,
 * and the retried batch starts there.
 */

/**
 * A batch streams its rows from object storage and commits them; retried without end on
 * technical failures. It heartbeats per chunk, so a worker killed mid-batch costs a
 * heartbeat timeout, not the whole start-to-close.
 */
const batchProfile: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

export const BATCHES_PER_RUN = 100;

const { prepareCardFile, finishCardFile } = proxyActivities<Activities>(profiles.database);
const { ingestCardFileBatch } = proxyActivities<Activities>(batchProfile);

export async function ingestCardFile(input: IngestCardFileInput): Promise<IngestCardFileResult> {
  const prepared = await prepareCardFile(input.fileId);
  if (prepared.status !== 'processing') return finishCardFile(input.fileId);
  let batchesDone = input.batchesDone ?? 0;
  for (let batch = 0; batch < BATCHES_PER_RUN; batch += 1) {
    const { done } = await ingestCardFileBatch(input.fileId);
    batchesDone += 1;
    if (done) return finishCardFile(input.fileId);
  }
  return continueAsNew<IngestCardFileWorkflow>({ fileId: input.fileId, batchesDone });
}
