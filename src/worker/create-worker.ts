import { type NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities, type ActivityDeps } from '../activities';
import { TASK_QUEUES } from '../temporal/names';
import { dataConverter } from '../temporal/client';
import { tracingWorkerPlugin, type Tracing } from '../observability/tracing';

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
  /** Traces workflows and activities (docs/observability.md); a bundle given here must carry WORKFLOW_TRACING_MODULES. */
  tracing?: Tracing;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createWorker(config: Config, deps: ActivityDeps, options: CreateWorkerOptions): Promise<Worker> {
  const bundlePath = config.temporal.workflowBundlePath;
  // The production bundle always carries the workflow tracing interceptors, so its
  // workers always get the plugin (exporting nothing without tracing).
  const plugins = options.tracing || (bundlePath && !options.workflowBundle) ? [tracingWorkerPlugin(options.tracing)] : [];
  return Worker.create({
    ...(plugins.length > 0 ? { plugins } : {}),
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUES.core,
    activities: createActivities({ limits: config.limits, statementLinkTtlSeconds: config.statements.linkTtlSeconds, cardFileBatchRows: config.cards.batchRows, campaignSend: config.campaigns, invoiceLimits: config.invoices, ...deps }),
    dataConverter: dataConverter(config.temporal),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.overrides,
  });
}
