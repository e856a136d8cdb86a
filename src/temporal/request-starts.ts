import { WithStartWorkflowOperation, type Client, type WorkflowOptions } from '@temporalio/client';
import type { Knex } from 'knex';
import { paymentOutcomeUpdate } from '../workflows/payments/contract';
import { TASK_QUEUES, searchAttributes } from './names';

/**
 * How a money request's workflow is started (docs/reliability.md, "Requests whose
 * workflow never started"). The API writes it next to the request's row, in the
 * transaction that claims the row, and starts the workflow from it; should that start
 * never happen (the API process killed between the two, Temporal unreachable and the
 * row kept), the `finflow-request-starts` Schedule starts it from the same record. A
 * start is idempotent: the workflow id is the request's, and a running or completed run
 * under it is never doubled.
 */
export interface RequestStart {
  workflowType: 'walletFunding' | 'customerTransfer' | 'bankPosting' | 'payCard' | 'payBillV3';
  /** The workflow's one argument, as JSON. */
  input: Record<string, unknown>;
  /** Whose request it is, for the search attributes an operator finds it by. */
  ids: { customerId: string; accountId: string; paymentId?: string };
  /**
   * Started with the `outcome` update (update-with-start), which answers once the
   * request has its final status: a bill payment, whose notice comes after that.
   */
  withOutcome?: boolean;
}

/** Start options every money workflow shares: its id, the search attributes, one run per id. */
export function requestStartOptions(workflowId: string, { ids }: Pick<RequestStart, 'ids'>): WorkflowOptions {
  return {
    taskQueue: TASK_QUEUES.core,
    workflowId,
    // A running workflow under this id is the same request: reuse it. A completed one
    // already did the work; only a failed or terminated one may run again.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    typedSearchAttributes: [
      { key: searchAttributes.CustomerId, value: ids.customerId },
      { key: searchAttributes.AccountId, value: ids.accountId },
      { key: searchAttributes.BusinessStatus, value: 'started' },
      ...(ids.paymentId ? [{ key: searchAttributes.PaymentId, value: ids.paymentId }] : []),
    ],
  };
}

/** Starts the request's workflow (a running one under its id is kept as it is). */
export async function startRequest(client: Client, workflowId: string, start: RequestStart): Promise<void> {
  await client.workflow.start(start.workflowType, { ...requestStartOptions(workflowId, start), args: [start.input] });
}

/**
 * Starts the request's workflow and waits, in the same call, for its `outcome` update:
 * the request's final status, not what the workflow does after it.
 */
export async function startRequestWithOutcome(client: Client, workflowId: string, start: RequestStart): Promise<unknown> {
  // The with-start operation's type requires the conflict policy spelled out; it is requestStartOptions' own.
  const startWorkflowOperation = new WithStartWorkflowOperation(start.workflowType, { ...requestStartOptions(workflowId, start), workflowIdConflictPolicy: 'USE_EXISTING', args: [start.input] });
  return client.workflow.executeUpdateWithStart(paymentOutcomeUpdate, { startWorkflowOperation });
}

/** The tables of money requests, each row named by its workflow. */
export const REQUEST_TABLES = ['wallet_fundings', 'customer_transfers', 'bank_postings', 'payments'] as const;
export type RequestTable = (typeof REQUEST_TABLES)[number];

/** Writes how the request's workflow starts, in the transaction that claims its row. */
export async function recordRequestStart(trx: Knex.Transaction, request: { table: RequestTable; id: string; workflowId: string }, start: RequestStart): Promise<void> {
  await trx('request_starts')
    .insert({
      workflow_id: request.workflowId,
      request_table: request.table,
      request_id: request.id,
      workflow_type: start.workflowType,
      input: JSON.stringify(start.input),
      ids: JSON.stringify(start.ids),
      with_outcome: start.withOutcome ?? false,
    })
    .onConflict('workflow_id')
    .ignore();
}
