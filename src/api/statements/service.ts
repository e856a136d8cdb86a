import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { newStatementRow, type StatementRow } from '../../banking/statement-rows';
import { transferIdFrom } from '../../ledger/ids';
import { withDeadline } from '../../temporal/client';
import { workflowIds } from '../../temporal/names';
import { requestStartOptions } from '../../temporal/request-starts';
import type { StatementInput, StatementWorkflow } from '../../workflows/banking/contract';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';

import { ownAccount } from '../core/own-account';
import { paginate, type PageQuery } from '../core/pagination';
import { presentStatement } from './presenters';
import type { StatementRequestBody } from './schema';

const DEFAULT_LAST_N = 10;

/** Nothing was posted before 1970; an earlier `from` (even year 0, which PostgreSQL refuses) starts there. */
const EPOCH_MS = 0;
const earliest = (from: string) => new Date(Math.max(Date.parse(from), EPOCH_MS)).toISOString();

/** Whether a stored statement records this very request (a reused Idempotency-Key with another body is refused). */
function sameRequest(row: StatementRow, wanted: ReturnType<typeof newStatementRow>): boolean {
  if (row.account_id !== wanted.account_id || row.last_n !== wanted.last_n) return false;
  return wanted.last_n !== null || (row.period_from?.getTime() === wanted.period_from?.getTime() && row.period_to?.getTime() === wanted.period_to.getTime());
}

/**
 * Asks for a statement: the row is written (`processing`) and the statement workflow
 * started under the id the Idempotency-Key derives, so a repeat makes nothing twice.
 */
export async function requestStatement(app: AppContext, userId: string, idempotencyKey: string, accountId: string, body: StatementRequestBody): Promise<StatementRow> {
  const account = await ownAccount(app.deps.ledger, userId, accountId);
  const now = app.deps.now();
  if (body.to !== undefined && Date.parse(body.to) > now.getTime()) throw problems.field('body', 'to', 'in_the_future', 'The period must not end in the future.');
  const workflowId = workflowIds.statement(userId, idempotencyKey);
  const input: StatementInput = {
    statementId: transferIdFrom(workflowId),
    userId,
    accountId: account.id,
    source: 'api',
    period: body.from !== undefined && body.to !== undefined ? { from: earliest(body.from), to: new Date(body.to).toISOString() } : { lastN: body.lastN ?? DEFAULT_LAST_N, asOf: now.toISOString() },
  };
  const row = newStatementRow({ ...input, workflowId });
  const { db } = app.deps;
  const inserted = await db('statements').insert(row).onConflict('id').ignore().returning('*');
  const stored = (inserted[0] ?? (await db('statements').where({ id: row.id }).first())) as StatementRow;
  if (!inserted[0]) {
    if (!sameRequest(stored, row)) throw problems.idempotencyKeyReused();
    // A repeat of a lastN request keeps the first request's instant, which is part of its input.
    if (stored.last_n !== null && stored.period_to) input.period = { lastN: stored.last_n, asOf: stored.period_to.toISOString() };
  }
  try {
    await withDeadline(app.deps.temporal, app.config.dependencyTimeoutMs, () =>
      app.deps.temporal.workflow.start<StatementWorkflow>('statement', { ...requestStartOptions(workflowId, { ids: { customerId: userId, accountId: account.id } }), args: [input] }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      // Nothing runs for a row just inserted, so it goes: a retry inserts it again.
      if (inserted[0]) await db('statements').where({ id: row.id, status: 'processing' }).delete();
      throw err;
    }
  }
  return stored;
}

/** The statement with a fresh link when it is ready and its object still exists. */
export async function presentWithLink(app: AppContext, row: StatementRow) {
  const { storage } = app.deps;
  if (row.status !== 'ready' || !row.object_key || !storage || !(await storage.head(row.object_key))) return presentStatement(row, undefined);
  const ttl = app.config.statements.linkTtlSeconds;
  const expiresAt = new Date(app.deps.now().getTime() + ttl * 1000);
  return presentStatement(row, { url: await storage.presignGet(row.object_key, ttl), expiresAt });
}

export async function findStatement(app: AppContext, userId: string, id: string): Promise<StatementRow> {
  const row = (await app.deps.db('statements').where({ id, user_id: userId }).first()) as StatementRow | undefined;
  if (!row) throw problems.notFound('No such statement of yours.');
  return row;
}

export async function listStatements(app: AppContext, userId: string, page: PageQuery) {
  return paginate<StatementRow>(app.deps.db('statements').where({ user_id: userId }).select('statements.*'), page, 'statements');
}
