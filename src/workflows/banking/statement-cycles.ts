import { continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { dayBefore, statementMonth } from '../../banking/statement-cycles';
import { profiles } from '../shared/activity-profiles';
import { statementCyclesProgressQuery, type StatementCyclesInput, type StatementCyclesProgress } from './contract';
import { runStatements, scheduledTime, showProgress } from './statement-fanout';

/**
 * The daily statement run (docs/statements.md): at 02:00 UTC, every statement whose
 * cycle closed at the midnight before: the credit cards whose statement day that was
 * (on a short month's last day, also the days the month lacks) and, on a month's last
 * day, every other account's calendar month. Each run takes one page of accounts, keeps
 * at most `window` statements running as child workflows and continues as new with the
 * next page, so no history grows with the number of accounts. The child's id is derived
 * from (account, month of the statement date), so each cycle is made once however often
 * the day is run, restarted or backfilled.
 */

const { countCycleAccounts, listCycleAccounts } = proxyActivities<Activities>(profiles.database);

/** Accounts per run (one continue-as-new each): about 5 history events per account. */
export const PAGE_SIZE = 500;
/** Statements running at once: what one worker's activity and workflow slots keep busy. */
export const WINDOW = 50;

export async function statementCycles(input: StatementCyclesInput): Promise<StatementCyclesProgress> {
  const date = input.date ?? dayBefore(scheduledTime());
  const progress: StatementCyclesProgress = input.progress ?? { date, total: await countCycleAccounts({ date }), done: 0, failed: 0 };
  setHandler(statementCyclesProgressQuery, () => progress);
  showProgress(progress.date, progress);

  const pageSize = input.pageSize ?? PAGE_SIZE;
  const window = input.window ?? WINDOW;
  const page = await listCycleAccounts({ date, afterAccountId: input.afterAccountId, limit: pageSize });
  await runStatements(page, statementMonth(date), window, progress);
  showProgress(progress.date, progress);

  const last = page[page.length - 1];
  if (page.length < pageSize || !last) return progress;
  return continueAsNew<typeof statementCycles>({ date, afterAccountId: last.accountId, progress, pageSize, window });
}

