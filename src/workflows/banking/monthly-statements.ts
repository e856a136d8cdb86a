import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  continueAsNew,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../../activities';
import { searchAttributes, systemSearchAttributes, workflowIds } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { monthlyStatementsProgressQuery, type MonthlyStatementsInput, type MonthlyStatementsProgress, type StatementResult } from './contract';
import { statement } from './statement';

/**
 * The monthly statement run (docs/statements.md): on the first of each month, the
 * previous month's statement of every customer account that moved money in it. Each
 * run takes one page of accounts, keeps at most WINDOW statements running at once as
 * child workflows, and continues as new with the next page, so no history grows with
 * the number of accounts. A statement's workflow id is derived from (account, month)
 * and its row is unique per (account, month): a restarted, repeated or backfilled run
 * finds the earlier statement and makes none.
 */

const { countStatementAccounts, listStatementAccounts } = proxyActivities<Activities>(profiles.database);

/** Accounts per run (one continue-as-new each): about 5 history events per account. */
export const PAGE_SIZE = 500;
/** Statements running at once. */
export const WINDOW = 25;

export async function monthlyStatements(input: MonthlyStatementsInput): Promise<MonthlyStatementsProgress> {
  const month = input.month ?? previousMonth(scheduledTime());
  const progress: MonthlyStatementsProgress = input.progress ?? { month, total: await countStatementAccounts({ month }), done: 0, failed: 0 };
  setHandler(monthlyStatementsProgressQuery, () => progress);
  showProgress(progress);

  const pageSize = input.pageSize ?? PAGE_SIZE;
  const page = await listStatementAccounts({ month, afterAccountId: input.afterAccountId, limit: pageSize });
  const running = new Set<Promise<void>>();
  for (const { accountId, userId, statementId } of page) {
    if (running.size >= WINDOW) await Promise.race(running);
    const one: Promise<void> = monthlyStatement({ accountId, userId, statementId }, month).then((result) => {
      progress.done += 1;
      if (result?.status === 'failed') progress.failed += 1;
      running.delete(one);
    });
    running.add(one);
  }
  await Promise.all(running);
  showProgress(progress);

  const last = page[page.length - 1];
  if (page.length < pageSize || !last) return progress;
  return continueAsNew<typeof monthlyStatements>({ month, afterAccountId: last.accountId, progress, pageSize });
}

/** One account's statement of the month; undefined when an earlier run already made it. */
async function monthlyStatement(
  { accountId, userId, statementId }: { accountId: string; userId: string; statementId: string },
  month: string,
): Promise<StatementResult | undefined> {
  const workflowId = workflowIds.monthlyStatement(accountId, month);
  const [from, to] = monthRange(month);
  try {
    const child = await startChild(statement, {
      workflowId,
      args: [{ statementId, userId, accountId, source: 'monthly', month, period: { from, to } }],
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

/** done / total in the Web UI's BusinessStatus column, once per page. */
function showProgress(progress: MonthlyStatementsProgress): void {
  setBusinessStatus(`${progress.month}: ${progress.done}/${progress.total}${progress.failed ? ` (${progress.failed} failed)` : ''}`);
}

function scheduledTime(): Date {
  const info = workflowInfo();
  return info.typedSearchAttributes.get(systemSearchAttributes.TemporalScheduledStartTime) ?? info.startTime;
}

/** `YYYY-MM` of the month before `at` (UTC). */
export function previousMonth(at: Date): string {
  const first = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  return first.toISOString().slice(0, 7);
}

/** [first instant of the month, first instant of the next), ISO 8601, UTC. */
function monthRange(month: string): [string, string] {
  const [year, index] = month.split('-').map(Number) as [number, number];
  return [new Date(Date.UTC(year, index - 1, 1)).toISOString(), new Date(Date.UTC(year, index, 1)).toISOString()];
}
