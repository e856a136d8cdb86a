/**
 * The workflows the payments bench runs: finflow's own, plus its two baselines. Lives
 * beside the bench, not in src/workflows, so production workers never register them.
 */
import { proxyActivities } from '@temporalio/workflow';
import { profiles } from '../src/workflows/shared/activity-profiles';
import type { createBaselineActivities } from './payments-setup';

export * from '../src/workflows';

type BaselineActivities = ReturnType<typeof createBaselineActivities>;
const { noop } = proxyActivities<BaselineActivities>(profiles.database);

/** The minimum a workflow costs: start → result, no activity at all. */
export async function emptyWorkflow(): Promise<void> {}

/** The cost of one remote activity on top of the minimum. */
export async function oneActivityWorkflow(): Promise<void> {
  await noop();
}
