import { type NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities, type ActivityDeps } from '../activities';
import { TASK_QUEUES } from '../temporal/names';
import { dataConverter } from '../temporal/client';

/**
 * Builds the worker for finflow's task queue from config. Production loads the
 * pre-built workflow bundle (WORKFLOW_BUNDLE_PATH); development and tests bundle
 * src/workflows on start.
 */
export interface CreateWorkerOptions {
  connection: NativeConnection;
  taskQueue?: string;
  /** A bundle made already (tests bundle once per run); otherwise config decides. */
  workflowBundle?: WorkflowBundle;
  /** Extra worker options for tests (e.g. a shorter shutdown grace time). */
  overrides?: Partial<WorkerOptions>;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createWorker(config: Config, deps: ActivityDeps, options: CreateWorkerOptions): Promise<Worker> {
  const bundlePath = config.temporal.workflowBundlePath;
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUES.core,
    activities: createActivities({ limits: config.limits, invoiceLimits: config.invoices, ...deps }),
    dataConverter: dataConverter(config.temporal),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.overrides,
  });
}
