import { ensureTool, missingToolMessage, TOOL_NAMES, type ToolName } from './binaries';

/**
 * `npm ci` runs this (postinstall) so a fresh clone has the Temporal binaries,
 * stripe-mock and the schemathesis fuzzer before the first `npm start` or `npm test`.
 * It never fails the install unless `--require` is given (CI): the Temporal SDK can
 * still download its binaries when online, and only some tests need the others.
 */
function main(): void {
  if (process.env.FINFLOW_SKIP_TOOLS === '1') return;
  const require = process.argv.includes('--require');
  const missing: ToolName[] = [];
  for (const name of TOOL_NAMES) {
    const tool = ensureTool(name);
    if (tool) console.error(`finflow: ${name} -> ${tool.path} (${tool.source})`);
    else missing.push(name);
  }
  for (const name of missing) console.error(missingToolMessage(name));
  if (require && missing.length > 0) process.exitCode = 1;
}

main();
