import { ParentClosePolicy, WorkflowIdReusePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { setBusinessStatus } from '../shared/business-status';
import { searchAttributes, systemSearchAttributes, workflowIds } from '../../temporal/names';
import type { StatementResult } from './contract';
import { statement } from './statement';

/**
 * The fan-out both statement runs share (docs/statements.md): each account's statement
 * is a child workflow whose id is derived from (account, month), started with
 * REJECT_DUPLICATE and abandoned on close, at most `window` at once. A child an earlier,
 * restarted or backfilled run already made is counted done and not made again.
 */

export interface StatementTarget {
  accountId: string;
  userId: string;
  statementId: string;
  period: { from: string; to: string };
}

/** Runs the page's statements in a sliding window of `window`, counting into `progress`. */
export async function runStatements(page: StatementTarget[], month: string, window: number, progress: { done: number; failed: number }): Promise<void> {
  const running = new Set<Promise<void>>();
  for (const target of page) {
    if (running.size >= window) await Promise.race(running);
    const one: Promise<void> = monthlyStatement(target, month).then((result) => {
      progress.done += 1;
      if (result?.status === 'failed') progress.failed += 1;
      running.delete(one);
    });
    running.add(one);
  }
  await Promise.all(running);
}

/** One account's statement of the month; undefined when an earlier run already made it. */
async function monthlyStatement({ accountId, userId, statementId, period }: StatementTarget, month: string): Promise<StatementResult | undefined> {
  const workflowId = workflowIds.monthlyStatement(accountId, month);
  try {
    const child = await startChild(statement, {
      workflowId,
      args: [{ statementId, userId, accountId, source: 'monthly', month, period }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // A statement already started goes on if this run is terminated or continues as new.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: searchAttributes.CustomerId, value: userId },
        { key: searchAttributes.AccountId, value: accountId },
        { key: searchAttributes.BusinessStatus, value: 'started' },
      ],
    });
    return await child.result();
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
    throw err;
  }
}

/** When a Schedule started the run, the time it was scheduled for (so a backfilled run is for its own day); else its start. */
export function scheduledTime(): Date {
  const info = workflowInfo();
  return info.typedSearchAttributes.get(systemSearchAttributes.TemporalScheduledStartTime) ?? info.startTime;
}

/** done / total of a run (`label` is its month or day) in the Web UI's BusinessStatus column, once per page. */
export function showProgress(label: string, { done, total, failed }: { done: number; total: number; failed: number }): void {
  setBusinessStatus(`${label}: ${done}/${total}${failed ? ` (${failed} failed)` : ''}`);
}
