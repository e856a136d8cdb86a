import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { workflowIds } from '../../src/temporal/names';
import { ingestCardFile, pickUpCardFiles } from '../../src/workflows';
import { BATCHES_PER_RUN } from '../../src/workflows/cards/ingest-card-file';
import { cardId, cardStorage, csv, storeCardFile } from '../helpers/cards';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { workflowTestBed } from '../helpers/services';

/**
 * The ingestion workflow on the time-skipping server: a file read batch by batch, a
 * worker that dies mid-file, and the pickup run that finds dropped files.
 */
describe('card file workflows (time-skipping server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let storage: ObjectStorage;

  before(async function () {
    this.timeout(600_000);
    [{ env, db, workflowBundle }, storage] = await Promise.all([workflowTestBed(), cardStorage()]);
  });

  const pickupFile = (rows: number) => csv('ID,Card ID,User Mobile,Timestamp', ...Array.from({ length: rows }, (_, i) => `${i + 1},${cardId()},501234567,14-11-2023 12:00PM`));
  const deps = (batchRows: number) => testActivityDeps(db, { storage, cardFileBatchRows: batchRows });

  it('resumes from the last committed batch after the worker dies mid-file, recording no event twice', async () => {
    const fileId = await storeCardFile(db, storage, 'courier-pickup', pickupFile(12));
    const taskQueue = uniqueTaskQueue('cards-crash');
    const real = createActivities(deps(2));
    let calls = 0;
    let crashed!: () => void;
    const reachedCrash = new Promise<void>((resolve) => (crashed = resolve));
    const first = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      shutdownGraceTime: '100ms',
      maxCachedWorkflows: 0,
      activities: {
        ...real,
        // The third batch commits, then the worker dies before it can report it.
        ingestCardFileBatch: async (id: string) => {
          calls += 1;
          const result = await real.ingestCardFileBatch(id);
          if (calls < 3) return result;
          crashed();
          await Context.current().cancelled.catch(() => undefined);
          throw new Error('worker went away after the commit');
        },
      },
    });
    const firstRun = first.run();
    const handle = await env.client.workflow.start(ingestCardFile, { taskQueue, workflowId: workflowIds.cardFile(fileId), args: [{ fileId }] });
    await reachedCrash;
    first.shutdown();
    await firstRun;
    assert.equal(await db('card_events').where({ file_id: fileId }).count().first().then((r) => Number(r?.count)), 6, 'three batches committed before the crash');

    const second = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(deps(2)) });
    const result = await second.runUntil(handle.result());

    assert.deepEqual(result.counters, { rows: 12, accepted: 12, rejected: 0, duplicates: 0 });
    assert.equal(await db('card_events').where({ file_id: fileId }).count().first().then((r) => Number(r?.count)), 12);
  });

  it(`continues as new every ${BATCHES_PER_RUN} batches and finishes the file`, async () => {
    const fileId = await storeCardFile(db, storage, 'courier-pickup', pickupFile(BATCHES_PER_RUN + 5));
    const taskQueue = uniqueTaskQueue('cards-can');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(deps(1)) });
    const handle = await env.client.workflow.start(ingestCardFile, { taskQueue, workflowId: workflowIds.cardFile(fileId), args: [{ fileId }] });
    const result = await worker.runUntil(handle.result());
    assert.equal(result.counters.accepted, BATCHES_PER_RUN + 5);
    const { runId } = await handle.describe();
    assert.notEqual(runId, handle.firstExecutionRunId);
  });

  it('records a file that cannot be read as rejected and ends', async () => {
    const fileId = await storeCardFile(db, storage, 'courier-pickup', csv('ID,Card ID,User Mobile,Timestamp'));
    const taskQueue = uniqueTaskQueue('cards-rejected');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(deps(2)) });
    const result = await worker.runUntil(env.client.workflow.execute(ingestCardFile, { taskQueue, workflowId: workflowIds.cardFile(fileId), args: [{ fileId }] }));
    assert.equal(result.status, 'rejected');
  });

  it('picks up dropped files once each, and a copy of a known file starts nothing', async () => {
    const prefix = `card-files/inbox-${cardId('t').toLowerCase()}/`;
    const content = Buffer.from(pickupFile(3));
    await storage.put({ key: `${prefix}courier-pickup/day-1.csv`, body: content, contentType: 'text/csv' });
    await storage.put({ key: `${prefix}courier-pickup/day-1-again.csv`, body: content, contentType: 'text/csv' });
    const taskQueue = uniqueTaskQueue('cards-pickup');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(deps(2)) });
    const fileId = createHash('sha256').update(content).digest('hex');
    const runs = await worker.runUntil(async () => {
      const first = await env.client.workflow.execute(pickUpCardFiles, { taskQueue, workflowId: `pickup-${prefix}`, args: [{ prefix }] });
      const second = await env.client.workflow.execute(pickUpCardFiles, { taskQueue, workflowId: `pickup-again-${prefix}`, args: [{ prefix }] });
      await env.client.workflow.getHandle(workflowIds.cardFile(fileId)).result();
      return [first, second];
    });
    assert.deepEqual(runs, [{ found: 2, started: 1 }, { found: 0, started: 0 }]);
  });
});
