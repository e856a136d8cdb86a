import { continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import { monthlyStatementsProgressQuery, type MonthlyStatementsInput, type MonthlyStatementsProgress } from './contract';
import { runStatements, scheduledTime, showProgress } from './statement-fanout';

/**
 * The calendar-month statement run (docs/statements.md), as it ran before statement
 * cycles: the previous month's statement of every customer account that moved money in
 * it. The daily statementCycles run has replaced its Schedule; the type stays for runs
 * in flight (replay-tested) and for re-running a whole calendar month by hand. Each
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
  showProgress(progress.month, progress);

  const pageSize = input.pageSize ?? PAGE_SIZE;
  const page = await listStatementAccounts({ month, afterAccountId: input.afterAccountId, limit: pageSize });
  const period = monthRange(month);
  await runStatements(
    page.map((account) => ({ ...account, period })),
    month,
    WINDOW,
    progress,
  );
  showProgress(progress.month, progress);

  const last = page[page.length - 1];
  if (page.length < pageSize || !last) return progress;
  return continueAsNew<typeof monthlyStatements>({ month, afterAccountId: last.accountId, progress, pageSize });
}

/** `YYYY-MM` of the month before `at` (UTC). */
export function previousMonth(at: Date): string {
  const first = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  return first.toISOString().slice(0, 7);
}

/** [first instant of the month, first instant of the next), ISO 8601, UTC. */
function monthRange(month: string): { from: string; to: string } {
  const [year, index] = month.split('-').map(Number) as [number, number];
  return { from: new Date(Date.UTC(year, index - 1, 1)).toISOString(), to: new Date(Date.UTC(year, index, 1)).toISOString() };
}
