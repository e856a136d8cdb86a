import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULES } from '../observability/tracing';
import { PROJECT_ROOT } from '../paths';
import { WORKFLOWS_PATH } from './create-worker';

/** `npm run build` step: writes dist/workflow-bundle.js for production workers. */
async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_TRACING_MODULES });
  const out = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
  await writeFile(out, code);
  console.log(`wrote ${out} (${code.length} bytes)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
