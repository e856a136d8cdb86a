import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { workflowIds } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import type { IngestCardFileWorkflow, PickUpCardFilesInput, PickUpCardFilesResult } from './contract';

/**
 * Run by the Schedule `finflow-card-file-pickup` (docs/cards.md): finds objects under
 * the partner prefix never picked up, records each as a card file keyed by its content
 * hash and starts its ingestion, which outlives this run. A file whose content was
 * ingested before (under another name, or uploaded) starts nothing. At most
 * FILES_PER_RUN files a run; the next run takes the rest.
 */

export const FILES_PER_RUN = 100;

const { listNewCardFileObjects, registerCardFileObject } = proxyActivities<Activities>(profiles.database);

export async function pickUpCardFiles({ prefix }: PickUpCardFilesInput): Promise<PickUpCardFilesResult> {
  const keys = await listNewCardFileObjects({ prefix, limit: FILES_PER_RUN });
  let started = 0;
  for (const key of keys) {
    const { fileId } = await registerCardFileObject({ prefix, key });
    try {
      await startChild<IngestCardFileWorkflow>('ingestCardFile', {
        workflowId: workflowIds.cardFile(fileId),
        args: [{ fileId }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      started += 1;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return { found: keys.length, started };
}
