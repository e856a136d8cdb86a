import { CancellationScope, isCancellation, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { failureDetail } from '../shared/failures';
import type { StatementInput, StatementResult } from './contract';
import { statementProfiles } from './profiles';

/**
 * A statement (docs/statements.md): open its row, render the ledger's lines into an
 * encrypted PDF and store it, text the holder a link, end `ready`. Storage or SMS down
 * is retried with backoff; once the retries run out the statement ends `failed` with
 * the reason and the holder is told, so no statement is left half made without a record.
 *
 * Since the patch `statement-in-two-steps` this takes two activities, prepare (open,
 * render, store) and deliver (link SMS, `ready`), where it took four and three status
 * updates: a monthly run makes thousands. Histories from before replay the old steps.
 */

const { openStatement, recordStatementOutcome, recordNotificationFailure } = proxyActivities<Activities>(profiles.database);
const { renderStatement, prepareStatement } = proxyActivities<Activities>(statementProfiles.render);
const { sendStatementLink, sendStatementFailureNotice, deliverStatement } = proxyActivities<Activities>(statementProfiles.send);

export async function statement(input: StatementInput): Promise<StatementResult> {
  const { workflowId } = workflowInfo();
  const { statementId } = input;
  const twoSteps = patched('statement-in-two-steps');
  if (!twoSteps) await openStatement({ ...input, workflowId });
  try {
    const { objectKey } = twoSteps ? await inTwoSteps(input, workflowId) : await inFourSteps(input, workflowId);
    setBusinessStatus('ready');
    return { statementId, status: 'ready', objectKey };
  } catch (err) {
    const reason = isCancellation(err) ? 'cancelled' : failureDetail(err);
    // Not cancellable: the record and the notice must outlive whatever stopped the work.
    await CancellationScope.nonCancellable(async () => {
      // In two steps the row is opened by the first: make sure it exists to hold the failure.
      if (twoSteps) await openStatement({ ...input, workflowId });
      await fail(statementId, `${workflowId}:failed`, reason);
    });
    setBusinessStatus('failed');
    if (isCancellation(err)) throw err;
    return { statementId, status: 'failed', reason };
  }
}

async function inTwoSteps(input: StatementInput, workflowId: string): Promise<{ objectKey: string }> {
  const prepared = await prepareStatement({ ...input, workflowId });
  await deliverStatement({ statementId: input.statementId, dedupeKey: `${workflowId}:link` });
  return prepared;
}

/** The steps before the patch, for histories that began with them. */
async function inFourSteps({ statementId, period }: StatementInput, workflowId: string): Promise<{ objectKey: string }> {
  setBusinessStatus('rendering');
  const rendered = await renderStatement({ statementId, period });
  setBusinessStatus('sending');
  await sendStatementLink({ statementId, dedupeKey: `${workflowId}:link` });
  await recordStatementOutcome({ statementId, outcome: { status: 'ready' } });
  return rendered;
}

async function fail(statementId: string, noticeKey: string, reason: string): Promise<void> {
  await recordStatementOutcome({ statementId, outcome: { status: 'failed', reason } });
  try {
    await sendStatementFailureNotice({ statementId, dedupeKey: noticeKey });
  } catch (err) {
    // The SMS may be what is down: the notice is then recorded as failed in the outbox.
    await recordNotificationFailure({ dedupeKey: noticeKey, reason: failureDetail(err) });
  }
}
