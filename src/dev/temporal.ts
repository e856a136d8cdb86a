import { TypedSearchAttributes } from '@temporalio/common';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTE_KEYS } from '../temporal/names';
import { findTool, installTool, missingToolMessage, type ToolName } from '../tools/binaries';
import { withDeadline } from './deadline';
import { isListening } from './ports';
import { startService, type PortSpec, type RunningService } from './service';

/**
 * Local Temporal servers: the dev server (`temporal server start-dev`, with the Web UI
 * and a SQLite file) and the time-skipping test server. Both run under the start-up
 * helper, so a server that dies or never answers fails within its deadline with its
 * own output. The binaries come from the resolver (env, PATH, `.tools/`, pip); when
 * none is found the SDK downloads its own (online), bounded by the same deadline.
 * Callers get a TestWorkflowEnvironment: its client, native connection and teardown.
 */

export interface DevServerOptions {
  /** A fixed gRPC port (`npm start`), or undefined to pick a free one. */
  port?: number;
  /** Web UI port; the UI is off when undefined and `ui` is not set. */
  uiPort?: number;
  ui?: boolean;
  dbFilename?: string;
  namespace?: string;
  /** The API's remote codec endpoint, shown to the Web UI. */
  uiCodecEndpoint?: string;
  timeoutMs: number;
}

function localExecutable(name: ToolName): string | undefined {
  return (findTool(name) ?? (installTool(name) ? findTool(name) : undefined))?.path;
}

/** Ready when the frontend answers gRPC for the namespace, not merely when the port is open. */
async function answersGrpc(address: string, namespace: string): Promise<boolean> {
  const [host, port] = address.split(':') as [string, string];
  if (!(await isListening(Number(port), host))) return false;
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.describeNamespace({ namespace }));
    return true;
  } finally {
    await connection.close();
  }
}

function searchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTE_KEYS.flatMap((key) => ['--search-attribute', `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`]);
}

/** Wraps a running server in a TestWorkflowEnvironment whose teardown also stops the server. */
async function attach(server: RunningService<string>, address: string, namespace: string, timeSkipping: boolean): Promise<TestWorkflowEnvironment> {
  // `create` is the one factory that connects to an existing server and still speaks the
  // test service (time skipping); the public ones are either/or.
  const factory = TestWorkflowEnvironment as unknown as {
    create(opts: { server: { type: 'existing' }; address: string; namespace: string; supportsTimeSkipping: boolean }): Promise<TestWorkflowEnvironment>;
  };
  let env: TestWorkflowEnvironment;
  try {
    env = await withDeadline(`a client connection to ${address}`, 30_000, factory.create({ server: { type: 'existing' }, address, namespace, supportsTimeSkipping: timeSkipping }));
  } catch (err) {
    await server.stop();
    throw err;
  }
  const closeConnections = env.teardown.bind(env);
  env.teardown = async () => {
    await closeConnections();
    await server.stop();
  };
  return env;
}

export async function startDevServer(options: DevServerOptions): Promise<TestWorkflowEnvironment> {
  const namespace = options.namespace ?? 'default';
  const path = localExecutable('temporal');
  if (!path) return sdkFallback('temporal', options.timeoutMs, () => sdkDevServer(options, namespace));
  const withUi = options.ui ?? options.uiPort !== undefined;
  const ports: { grpc: PortSpec; ui: PortSpec } = {
    grpc: { port: options.port, envVar: 'TEMPORAL_DEV_PORT' },
    ui: { port: options.uiPort, envVar: 'TEMPORAL_UI_PORT' },
  };
  const server = await startService({
    name: 'Temporal dev server',
    ports,
    command: path,
    args: ({ grpc, ui }) => [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(grpc),
      ...(withUi ? ['--ui-port', String(ui), '--ui-disable-news-fetch'] : ['--headless']),
      ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
      ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
      '--namespace',
      namespace,
      ...searchAttributeArgs(),
      // As the SDK's own launcher does: no call home (there may be no internet), updates on.
      ...['frontend.enableServerVersionCheck=false', 'frontend.enableUpdateWorkflowExecution=true', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true'].flatMap((value) => [
        '--dynamic-config-value',
        value,
      ]),
      '--log-level',
      'warn',
    ],
    ready: ({ grpc }) => answersGrpc(`127.0.0.1:${grpc}`, namespace),
    timeoutMs: options.timeoutMs,
    probeIntervalMs: 250,
  });
  return attach(server, `127.0.0.1:${server.ports.grpc}`, namespace, false);
}

export async function startTimeSkippingServer(options: { timeoutMs: number }): Promise<TestWorkflowEnvironment> {
  const path = localExecutable('temporal-test-server');
  if (!path) {
    return sdkFallback('temporal-test-server', options.timeoutMs, () => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'cached-download' } } }));
  }
  const server = await startService({
    name: 'Temporal time-skipping test server',
    ports: { grpc: {} },
    command: path,
    args: ({ grpc }) => [String(grpc)],
    ready: ({ grpc }) => answersGrpc(`127.0.0.1:${grpc}`, 'default'),
    timeoutMs: options.timeoutMs,
    probeIntervalMs: 250,
  });
  return attach(server, `127.0.0.1:${server.ports.grpc}`, 'default', true);
}

function sdkDevServer(options: DevServerOptions, namespace: string): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      ui: options.ui ?? options.uiPort !== undefined,
      uiPort: options.uiPort,
      dbFilename: options.dbFilename,
      namespace,
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      extraArgs: ['--log-level', 'warn', ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : [])],
    },
  });
}

/** No local binary: the SDK downloads one (online only), under the same deadline. */
async function sdkFallback(name: ToolName, timeoutMs: number, start: () => Promise<TestWorkflowEnvironment>): Promise<TestWorkflowEnvironment> {
  try {
    // The download comes first, so it gets a deadline of its own on top of the start-up's.
    return await withDeadline(`the SDK to download and start ${name}`, timeoutMs * 3, start());
  } catch (err) {
    throw new Error(`${missingToolMessage(name)}\n(cause: ${(err as Error).message})`, { cause: err });
  }
}
