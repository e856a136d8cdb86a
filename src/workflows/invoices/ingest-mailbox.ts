import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, continueAsNew, proxyActivities, startChild, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { businessFailureOf } from '../../temporal/failures';
import { workflowIds } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import type { IngestMailboxInput, IngestMailboxResult, ScheduledIngestionInput } from './contract';

/**
 * One ingestion of a customer's mailbox (docs/invoices.md), workflow id
 * `invoice-ingestion:<customerId>`, so two never overlap:
 *
 *   read a batch of new messages (store, parse, record skips, advance the last UID) →
 *   send the notices it owes → until no new message remains → completed.
 *
 * A mailbox that cannot be read (refused login, unreachable host, TLS mismatch) fails
 * the batch; the activity records the reason on the mailbox and the progress row and
 * Temporal retries it, for about an hour, before the ingestion is `failed` with that reason.
 * Long mailboxes continue as new every BATCHES_PER_RUN batches, so no history grows with them.
 */

const { beginIngestion, finishIngestion } = proxyActivities<Activities>(profiles.database);
const { sendInvoiceNotice } = proxyActivities<Activities>(profiles.provider);
// It heartbeats per message: a worker killed mid-batch is noticed in 30 s, not 5 minutes.
const { ingestMailboxBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

export const BATCHES_PER_RUN = 40;

export async function ingestMailbox(input: IngestMailboxInput): Promise<IngestMailboxResult> {
  const { userId, ingestionId } = input;
  if (!input.batchesBefore) await beginIngestion({ userId, ingestionId, trigger: input.trigger });
  let batches = input.batchesBefore ?? 0;
  let noticesSent = 0;
  try {
    for (let inThisRun = 0; ; inThisRun++) {
      if (inThisRun === BATCHES_PER_RUN) await continueAsNew<typeof ingestMailbox>({ ...input, batchesBefore: batches });
      const batch = await ingestMailboxBatch({ userId, ingestionId });
      batches++;
      // Each notice is claimed by its dedupe key: a retried batch that returns an invoice again sends nothing new.
      const sent = await Promise.all(batch.toNotify.map((invoiceId) => sendInvoiceNotice({ invoiceId })));
      noticesSent += sent.filter((s) => s.email || s.sms).length;
      if (batch.done) break;
    }
  } catch (err) {
    const reason = businessFailureOf(err)?.message ?? (err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err));
    await finishIngestion({ ingestionId, status: 'failed', reason });
    return { ingestionId, status: 'failed', batches, noticesSent, reason };
  }
  await finishIngestion({ ingestionId, status: 'completed' });
  return { ingestionId, status: 'completed', batches, noticesSent };
}

/**
 * Started by the customer's weekday Schedule (a Schedule appends the fire time to its
 * workflow ids): starts the ingestion under the mailbox's own id, or does nothing when
 * one is running already.
 */
export async function scheduledIngestion({ userId }: ScheduledIngestionInput): Promise<{ started: boolean }> {
  try {
    await startChild(ingestMailbox, {
      workflowId: workflowIds.invoiceIngestion(userId),
      args: [{ userId, ingestionId: uuid4(), trigger: 'schedule' }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
    throw err;
  }
}
