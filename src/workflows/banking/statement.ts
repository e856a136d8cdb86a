import { CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
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
 */

const { openStatement, recordStatementOutcome, recordNotificationFailure } = proxyActivities<Activities>(profiles.database);
const { renderStatement } = proxyActivities<Activities>(statementProfiles.render);
const { sendStatementLink, sendStatementFailureNotice } = proxyActivities<Activities>(statementProfiles.send);

export async function statement(input: StatementInput): Promise<StatementResult> {
  const { workflowId } = workflowInfo();
  const { statementId } = input;
  await openStatement({ ...input, workflowId });
  try {
    setBusinessStatus('rendering');
    const { objectKey } = await renderStatement({ statementId, period: input.period });
    setBusinessStatus('sending');
    await sendStatementLink({ statementId, dedupeKey: `${workflowId}:link` });
    await recordStatementOutcome({ statementId, outcome: { status: 'ready' } });
    setBusinessStatus('ready');
    return { statementId, status: 'ready', objectKey };
  } catch (err) {
    const reason = isCancellation(err) ? 'cancelled' : failureDetail(err);
    // Not cancellable: the record and the notice must outlive whatever stopped the work.
    await CancellationScope.nonCancellable(() => fail(statementId, `${workflowId}:failed`, reason));
    setBusinessStatus('failed');
    if (isCancellation(err)) throw err;
    return { statementId, status: 'failed', reason };
  }
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
