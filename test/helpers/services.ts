import { mkdtemp, chmod, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server as HttpServer } from 'node:http';
import { Client as PgClient } from 'pg';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { loadConfig, withServices, type Config } from '../../src/config';
import { createDb, migrateLatest, type Db } from '../../src/db/knex';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/dev/postgres';
import { startDevServer, startTimeSkippingServer } from '../../src/dev/temporal';
import { createLogger } from '../../src/logger';
import { createLedger } from '../../src/ledger/service';
import { createSandboxFundingProcessor } from '../../src/providers/funding/sandbox';
import { createBillerPort } from '../../src/payments/billers';
import { createApp } from '../../src/api/app';
import { createNotifier } from '../../src/providers/notifier';
import { createSmsProvider } from '../../src/providers/sms';
import { createClient, ensureSearchAttributes } from '../../src/temporal/client';
import { WORKFLOWS_PATH, createWorker } from '../../src/worker/create-worker';

/**
 * The services tests need, each started at most once per mocha run and torn down by
 * the root hook in hooks.ts: a real PostgreSQL (DATABASE_URL, else embedded), the
 * Temporal dev server, the time-skipping test server, and a full stack (worker + API).
 */

const teardowns: Array<() => Promise<unknown>> = [];
const once = <T>(start: () => Promise<T>) => {
  let started: Promise<T> | undefined;
  return () => (started ??= start());
};

Runtime.install({ logger: new DefaultLogger('ERROR') });

export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a throwaway embedded PostgreSQL in a temp dir; the caller stops it. */
export async function startScratchPostgres(database = 'finflow_test'): Promise<EmbeddedPostgresHandle & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'finflow-pg-'));
  await chmod(dir, 0o755);
  const handle = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort(), database, persistent: false });
  return { ...handle, dir };
}

export interface RestartablePostgres {
  url: string;
  dir: string;
  /** Stops the server and keeps its data, as an outage would. */
  stop(): Promise<void>;
  /** Starts the server again on the same data dir and port (same url) after stop(). */
  restart(): Promise<void>;
  /** Stops the server if it runs and deletes its data; also run by the root hook. */
  remove(): Promise<void>;
}

/** A throwaway embedded PostgreSQL that survives stop() and restart(), for outage tests. */
export async function startRestartablePostgres(database = 'finflow_test'): Promise<RestartablePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'finflow-pg-'));
  await chmod(dir, 0o755);
  const options = { dataDir: join(dir, 'data'), port: await freePort(), database, persistent: true };
  let running: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres(options);
  const url = running.url;
  const stop = async () => {
    const handle = running;
    running = undefined;
    await handle?.stop();
  };
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  teardowns.push(remove);
  return {
    url,
    dir,
    stop,
    restart: async () => {
      if (running) throw new Error('PostgreSQL is still running; stop() it first');
      running = await startEmbeddedPostgres(options);
    },
    remove,
  };
}

/** A database URL for this run: a fresh database on DATABASE_URL's server, or an embedded server. */
export const postgresUrl = once(async (): Promise<string> => {
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `finflow_test_${process.pid}_${Date.now()}`;
    const admin = new PgClient({ connectionString: external });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${name}`;
    return url.toString();
  }
  const pg = await startScratchPostgres();
  teardowns.push(async () => {
    await pg.stop();
    await rm(pg.dir, { recursive: true, force: true });
  });
  return pg.url;
});

export function testConfig(env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_FORMAT: 'json', ...env });
}

/** A migrated knex pool on the run's database. */
export const testDb = once(async (): Promise<Db> => {
  const db = createDb({ database: { url: await postgresUrl(), poolMax: 20, embeddedPort: 0 }, dependencyTimeoutMs: 5000 });
  await migrateLatest(db);
  teardowns.push(() => db.destroy());
  return db;
});

export const devServer = once(async (): Promise<TestWorkflowEnvironment> => {
  const env = await startDevServer({ port: await freePort() });
  teardowns.push(() => env.teardown());
  return env;
});

/** The workflow code bundled once per run; every workflow test's workers share it. */
export const workflowBundle = once(() => bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }));

export const timeSkippingServer = once(async (): Promise<TestWorkflowEnvironment> => {
  const env = await startTimeSkippingServer();
  teardowns.push(() => env.teardown());
  await ensureSearchAttributes(env.client, env.namespace ?? 'default');
  return env;
});

export interface Stack {
  config: Config;
  db: Db;
  temporal: TestWorkflowEnvironment;
  /** A client with finflow's payload codec, as the API and worker use: `temporal.client` has none. */
  client: Client;
  worker: Worker;
  baseUrl: string;
}

/** PostgreSQL + dev server + worker + API on a random port, shared by the e2e tests. */
export const stack = once(async (): Promise<Stack> => {
  const [url, temporal, db] = await Promise.all([postgresUrl(), devServer(), testDb()]);
  const config = withServices(testConfig(), url, temporal.address);
  const connection = temporal.nativeConnection;
  const notifier = createNotifier({ db, sms: createSmsProvider(config, db) });
  const client = createClient(config.temporal);
  const deps = { db, notifier, ledger: createLedger(db), funding: createSandboxFundingProcessor(db), billers: createBillerPort(db), now: () => new Date(), temporal: client };
  const worker = await createWorker(config, deps, { connection, overrides: { shutdownGraceTime: '1s' } });
  const running = worker.run();
  const server: HttpServer = createApp(config, { db, temporal: client, logger: createLogger(config) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  teardowns.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    worker.shutdown();
    await running;
    await client.connection.close();
  });
  return { config, db, temporal, client, worker, baseUrl: `http://127.0.0.1:${port}` };
});

/** Runs every registered teardown, newest first. */
export async function stopAll(): Promise<void> {
  while (teardowns.length > 0) {
    const teardown = teardowns.pop() as () => Promise<unknown>;
    await teardown().catch((err: unknown) => console.error('teardown failed', err));
  }
}
