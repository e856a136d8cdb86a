import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ParameterizedContext } from 'koa';
import type { AppContext, AppState } from './context';
import { problems } from './errors';
import type { Account } from '../../ledger/types';
import { LimitExceededError, limitFor, type LimitKind } from '../../limits/limits';
import { releaseLimit, reserveLimit, type Reservation } from '../../limits/reserve';
import { withDeadline } from '../../temporal/client';
import { recordRequestStart, startRequest, startRequestWithOutcome, type RequestStart, type RequestTable } from '../../temporal/request-starts';

/**
 * The life of a money request (a wallet funding, a customer transfer, a bank posting,
 * a payment), shared by these resources. The Idempotency-Key is the business id: it names the
 * workflow and, through `transferIdFrom`, the request's row and its ledger transfer. So
 * the row's primary key is a durable claim that outlives the 24 h of the key itself:
 *
 *   1. insert the row (`processing`) unless it exists, with how its workflow starts
 *      (`RequestStart`); an existing row for another request is `idempotency_key_reused`,
 *      a finished one is simply answered;
 *   2. start the workflow under the derived id (a running one is reused, never doubled);
 *   3. wait up to SYNC_WAIT_MS for it to finish, then answer from the row.
 *
 * A bill payment does 2 and 3 in one call (`withOutcome`, update-with-start): it waits
 * for the update that answers once the payment is final, not for the workflow, whose
 * notice comes after. Should 2 never happen (the process killed after 1), a repeat of
 * the request starts the workflow, and so, minutes later, does the
 * `finflow-request-starts` Schedule from the start recorded in 1.
 */

/** How long a request waits for its workflow before answering 202. */
export const SYNC_WAIT_MS = 3_000;

export type RequestStatus = 'processing' | 'succeeded' | 'failed';

/** A request's row; a resource with more final statuses (a payment can be `cancelled`) names them. */
export interface RequestRow<Status extends string = RequestStatus> {
  id: string;
  status: Status | 'processing';
  failure_reason: string | null;
}

/**
 * A money request: its row, and the workflow that carries it out. How that workflow is
 * started (`RequestStart`) is written with the row, so a start that never happened can
 * be made later from the same record (src/temporal/request-starts.ts).
 */
export interface MoneyRequest<Row extends RequestRow<string>> {
  table: RequestTable;
  /** The row to claim, without its status (it starts `processing`). */
  row: { id: string; workflow_id: string } & Record<string, unknown>;
  /** Whether a stored row records this very request (same account, amount, …). */
  sameRequest: (stored: Row) => boolean;
  /**
   * The limit the request counts against (docs/security.md, "Limits"): reserved in the
   * transaction that claims the row, so concurrent requests cannot both fit under it.
   */
  limit?: Omit<Reservation, 'requestId' | 'at'>;
  /**
   * The workflow: started, then its result awaited; or, `withOutcome`, started and its
   * `outcome` update awaited in one call (update-with-start).
   */
  workflow: RequestStart;
}

export interface Submitted<Row> {
  row: Row;
  /** False when the row existed before this request (a repeat of an earlier one). */
  fresh: boolean;
}

export async function submit<Row extends RequestRow<string>>(app: AppContext, request: MoneyRequest<Row>): Promise<Submitted<Row>> {
  const { db } = app.deps;
  const load = async () => (await db(request.table).where({ id: request.row.id }).first()) as Row | undefined;
  const [inserted] = await claim(app, request);
  const existing = inserted ? undefined : await load();
  if (!inserted && !existing) throw new Error(`request ${request.row.workflow_id} vanished after its claim`);
  if (existing && !request.sameRequest(existing)) throw problems.idempotencyKeyReused();
  if (existing && existing.status !== 'processing') return { row: existing, fresh: false };

  if (request.workflow.withOutcome) {
    await startWithOutcome(app, request, Boolean(inserted));
  } else {
    await startThenAwait(app, request, Boolean(inserted));
  }
  return { row: (await load()) ?? inserted ?? (existing as Row), fresh: Boolean(inserted) };
}

/** Starts the workflow, then waits for its result (at most SYNC_WAIT_MS). */
async function startThenAwait<Row extends RequestRow<string>>(app: AppContext, request: MoneyRequest<Row>, inserted: boolean): Promise<void> {
  const { temporal } = app.deps;
  try {
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () => startRequest(temporal, request.row.workflow_id, request.workflow));
  } catch (err) {
    // A completed run under this id: the work is done and its row says how it ended.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      if (inserted) await withdraw(app, request);
      throw err;
    }
  }
  await awaitWorkflow(app, request.row.workflow_id);
}

/**
 * Starts the workflow and waits for its outcome update in one call, at most
 * SYNC_WAIT_MS. When that call fails or runs out of time, the request's workflow may
 * still have started (only the wait ended): then the row answers (202 while it runs);
 * only a workflow that is not there withdraws a row just inserted.
 */
async function startWithOutcome<Row extends RequestRow<string>>(app: AppContext, request: MoneyRequest<Row>, inserted: boolean): Promise<void> {
  const { temporal } = app.deps;
  try {
    await withDeadline(temporal, SYNC_WAIT_MS, () => startRequestWithOutcome(temporal, request.row.workflow_id, request.workflow));
  } catch (err) {
    // A completed run under this id: the work is done and its row says how it ended.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    const started = await withDeadline(temporal, app.config.dependencyTimeoutMs, () => temporal.workflow.getHandle(request.row.workflow_id).describe()).then(
      () => true,
      () => false,
    );
    if (started) return;
    if (inserted) await withdraw(app, request);
    throw err;
  }
}

/**
 * Deletes a row just inserted whose workflow did not start (a 5xx is not replayed: a
 * retry inserts it again). Should the start have reached Temporal after all, the
 * workflow writes the row back when it finishes.
 */
async function withdraw<Row extends RequestRow<string>>(app: AppContext, request: MoneyRequest<Row>): Promise<void> {
  await app.deps.db.transaction(async (trx) => {
    await trx(request.table).where({ id: request.row.id, status: 'processing' }).delete();
    await trx('request_starts').where({ workflow_id: request.row.workflow_id }).delete();
    await releaseLimit(trx, request.row.id);
  });
}

/**
 * Refuses a request the account's available balance does not cover now (amount and any
 * fee): `insufficient_funds` before anything starts; the ledger enforces the balance
 * again when it moves the money. A repeat of a request already recorded is not refused:
 * it is answered from its record, whatever balance it has itself held or spent. Whether
 * it is a repeat is asked only when the balance falls short.
 */
export async function assertFunded(account: Pick<Account, 'balances'>, totalMinor: bigint, isRepeat: () => Promise<boolean>): Promise<void> {
  if (account.balances.availableMinor >= totalMinor || (await isRepeat())) return;
  throw problems.insufficientFunds('amount');
}

/**
 * Refuses at once an amount over the per-transaction limit of its kind and currency,
 * before anything else is asked of the request (it is checked again, with the daily
 * limit, when the request's row is claimed).
 */
export function checkPerTransactionLimit(app: AppContext, kind: LimitKind, currency: string, amountMinor: bigint): void {
  const limit = limitFor(app.config.limits, currency, kind);
  if (limit && amountMinor > limit.perTransactionMinor) {
    throw problems.limitExceeded(new LimitExceededError(kind, 'per_transaction', currency, limit.perTransactionMinor));
  }
}

/**
 * Inserts the request's row unless it exists and, for a new one, reserves its limit in
 * the same transaction: a request over a limit leaves no row and starts nothing.
 */
async function claim<Row extends RequestRow<string>>(app: AppContext, request: MoneyRequest<Row>): Promise<Row[]> {
  try {
    return await app.deps.db.transaction(async (trx) => {
      const rows = (await trx(request.table).insert({ ...request.row, status: 'processing' }).onConflict('id').ignore().returning('*')) as Row[];
      if (rows.length === 0) return rows;
      if (request.limit) await reserveLimit(trx, app.config.limits, { ...request.limit, requestId: request.row.id, at: app.deps.now() });
      await recordRequestStart(trx, { table: request.table, id: request.row.id, workflowId: request.row.workflow_id }, request.workflow);
      return rows;
    });
  } catch (err) {
    if (err instanceof LimitExceededError) throw problems.limitExceeded(err);
    throw err;
  }
}

/**
 * Waits for the workflow to close, at most SYNC_WAIT_MS. Whatever happens (still
 * running, failed, Temporal slow) the caller answers from the row, so errors are moot.
 */
async function awaitWorkflow(app: AppContext, workflowId: string): Promise<void> {
  const { temporal } = app.deps;
  await withDeadline(temporal, SYNC_WAIT_MS, () => temporal.workflow.getHandle(workflowId).result()).catch(() => undefined);
}

/**
 * Answers a submitted request: 202 with Location while it runs, else the final
 * resource (201 when this request created it, 200 for a repeat).
 */
export function answer<Row extends RequestRow<string>, Presented>(
  ctx: ParameterizedContext<AppState>,
  submitted: Submitted<Row>,
  present: (row: Row) => Presented,
  location: string,
): void {
  ctx.set('Location', location);
  ctx.status = submitted.row.status === 'processing' ? 202 : submitted.fresh ? 201 : 200;
  ctx.body = present(submitted.row);
}
