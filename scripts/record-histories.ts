/**
 * Records the event histories the replay tests run against the current workflow code.
 * Run once per workflow version (`npx tsx scripts/record-histories.ts`) and commit the
 * JSON: a later change that breaks determinism then fails test/workflows/replay.test.ts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createActivities } from '../src/activities';
import { createSandboxNotifier } from '../src/providers/sandbox-notifier';
import { workflowIds } from '../src/temporal/names';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import { onboarding } from '../src/workflows';
import { insertCustomer, uniqueTaskQueue } from '../test/helpers/fixtures';
import { stopAll, testDb, timeSkippingServer } from '../test/helpers/services';

const OUT_DIR = join(__dirname, '..', 'test', 'workflows', 'histories');

async function main(): Promise<void> {
  const [env, db] = await Promise.all([timeSkippingServer(), testDb()]);
  const taskQueue = uniqueTaskQueue('record');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ db, notifier: createSandboxNotifier(db), now: () => new Date() }),
  });
  const customerId = await insertCustomer(db);
  const workflowId = workflowIds.onboarding(customerId);
  await worker.runUntil(env.client.workflow.execute(onboarding, { taskQueue, workflowId, args: [{ customerId }] }));
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  await writeFile(join(OUT_DIR, 'onboarding-v1.json'), historyToJSON(history));
  console.log(`recorded ${workflowId}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void stopAll());
