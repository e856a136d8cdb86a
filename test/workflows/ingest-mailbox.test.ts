import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowIds } from '../../src/temporal/names';
import { ingestMailbox } from '../../src/workflows';
import { uniqueTaskQueue } from '../helpers/fixtures';
import { workflowTestBed } from '../helpers/services';

/**
 * The ingestion workflow's story on the time-skipping server, with stand-in activities:
 * batches until done with each batch's notices, a failure recorded with its reason, and
 * one run per mailbox.
 */
describe('ingestMailbox workflow (time-skipping server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, workflowBundle } = await workflowTestBed());
  });

  /** Activities that answer scripted batches and record what the workflow asked. */
  function standIns(batches: Array<{ done: boolean; toNotify: string[] } | Error>) {
    const calls = { finished: [] as Array<{ status: string; reason?: string }>, notices: [] as string[] };
    let next = 0;
    const activities = {
      beginIngestion: async () => undefined,
      finishIngestion: async (input: { status: string; reason?: string }) => void calls.finished.push({ status: input.status, reason: input.reason }),
      sendInvoiceNotice: async ({ invoiceId }: { invoiceId: string }) => {
        calls.notices.push(invoiceId);
        return { email: true, sms: true };
      },
      ingestMailboxBatch: async () => {
        const batch = batches[Math.min(next++, batches.length - 1)];
        if (batch instanceof Error) throw batch;
        return batch;
      },
    };
    return { activities, calls };
  }

  async function run(batches: Array<{ done: boolean; toNotify: string[] } | Error>) {
    const taskQueue = uniqueTaskQueue('ingest');
    const { activities, calls } = standIns(batches);
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
    const userId = randomUUID();
    const result = await worker.runUntil(
      env.client.workflow.execute(ingestMailbox, { taskQueue, workflowId: workflowIds.invoiceIngestion(userId), args: [{ userId, ingestionId: randomUUID(), trigger: 'request' }] }),
    );
    return { result, calls };
  }

  it('reads batches until the mailbox is done and sends the notices each batch owes', async () => {
    const { result, calls } = await run([
      { done: false, toNotify: ['a', 'b'] },
      { done: true, toNotify: ['c'] },
    ]);
    // A batch's notices go out in parallel: which one the worker runs first is not part of the story.
    assert.deepEqual([result.status, result.batches, result.noticesSent, [...calls.notices].sort(), calls.finished], ['completed', 2, 3, ['a', 'b', 'c'], [{ status: 'completed', reason: undefined }]]);
  });

  it('ends failed with the reason when the mailbox is gone', async () => {
    const { result, calls } = await run([ApplicationFailure.create({ type: 'mailbox_not_connected', message: 'no mailbox connected', nonRetryable: true })]);
    assert.deepEqual([result.status, result.reason, calls.finished], ['failed', 'no mailbox connected', [{ status: 'failed', reason: 'no mailbox connected' }]]);
  });

  it('retries a batch the mailbox server refused, then goes on', async () => {
    const { result } = await run([new Error('host_unreachable: the mail server cannot be reached'), { done: true, toNotify: [] }]);
    assert.deepEqual([result.status, result.batches], ['completed', 1]);
  });
});
