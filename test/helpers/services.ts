import { mkdtemp, chmod, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
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
import { startStripeMock, type StripeMockHandle } from '../../src/dev/stripe-mock';
import { startLocalS3 } from '../../src/dev/versitygw';
import { startDevServer, startTimeSkippingServer } from '../../src/dev/temporal';
import { withDeadline } from '../../src/dev/deadline';
import { freePort } from '../../src/dev/ports';
import { createLogger } from '../../src/logger';
import { createApp } from '../../src/api/app';
import { createClient, ensureSearchAttributes } from '../../src/temporal/client';
import { WORKFLOWS_PATH, createWorker } from '../../src/worker/create-worker';
import { appPorts, createPorts } from '../../src/worker/deps';

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

export { freePort };

/** How long each service may take to become ready (STARTUP_TIMEOUT_MS, default 60 s) before one retry. */
export const startupTimeoutMs = (): number => testConfig({ STARTUP_TIMEOUT_MS: process.env.STARTUP_TIMEOUT_MS }).startupTimeoutMs;

/** Starts a throwaway embedded PostgreSQL in a temp dir; the caller stops it. */
export async function startScratchPostgres(database = 'finflow_test'): Promise<EmbeddedPostgresHandle & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'finflow-pg-'));
  await chmod(dir, 0o755);
  const handle = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), database, timeoutMs: startupTimeoutMs() });
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
  const options = { dataDir: join(dir, 'data'), database, timeoutMs: startupTimeoutMs() };
  let running: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres(options);
  const { url, port } = running;
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
      running = await startEmbeddedPostgres({ ...options, port });
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

/**
 * Every test process reaches the API from 127.0.0.1, so the abuse limits are set out of
 * reach here; the tests of those limits start an app of their own with low ones.
 */
const UNLIMITED: NodeJS.ProcessEnv = Object.fromEntries(
  ['SIGNUP_LIMIT_PER_ADDRESS', 'SIGNUP_LIMIT_PER_EMAIL', 'VERIFICATION_LIMIT_PER_ADDRESS', 'VERIFICATION_LIMIT_PER_TARGET', 'LOOKUP_LIMIT_PER_ADDRESS', 'LOOKUP_LIMIT_PER_TARGET', 'CARD_STATUS_LIMIT_PER_ADDRESS', 'CARD_STATUS_LIMIT_PER_CARD'].map(
    (name) => [name, '1000000'],
  ),
);

export function testConfig(env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_FORMAT: 'json', ...UNLIMITED, ...env });
}

/** A migrated knex pool on the run's database. */
export const testDb = once(async (): Promise<Db> => {
  const db = createDb({ database: { url: await postgresUrl(), poolMax: 20, embeddedPort: 0 }, dependencyTimeoutMs: 5000 });
  await migrateLatest(db);
  teardowns.push(() => db.destroy());
  return db;
});

export const devServer = once(async (): Promise<TestWorkflowEnvironment> => {
  const env = await startDevServer({ timeoutMs: startupTimeoutMs() });
  teardowns.push(() => env.teardown());
  return env;
});

/** The workflow code bundled once per run; every workflow test's workers share it. */
export const workflowBundle = once(() => bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }));

/** A time-skipping test server of its own, stopped with the other services at the end of the run. */
async function freshTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await startTimeSkippingServer({ timeoutMs: startupTimeoutMs() });
  teardowns.push(() => env.teardown());
  await ensureSearchAttributes(env.client, env.namespace ?? 'default');
  return env;
}

export const timeSkippingServer = once(freshTimeSkippingServer);

/** stripe-mock on a free port, for the Stripe funding adapter's tests. */
export const stripeMock = once(async (): Promise<StripeMockHandle> => {
  const handle = await startStripeMock({ timeoutMs: startupTimeoutMs() });
  teardowns.push(() => handle.stop());
  return handle;
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
  const [url, temporal, db, s3] = await Promise.all([postgresUrl(), devServer(), testDb(), localS3()]);
  // Statements and partner files are stored on the local S3 server, as under npm start.
  const config = withServices(
    testConfig({ S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', S3_BUCKET: 'finflow-e2e' }),
    url,
    temporal.address,
  );
  const connection = temporal.nativeConnection;
  const ports = createPorts(config, { db });
  await ports.storage.ensureBucket();
  // One client with the payload codec for the worker's activities, the API and the tests.
  const client = createClient(config.temporal);
  const worker = await createWorker(config, { db, ...ports, now: () => new Date(), temporal: client }, { connection, workflowBundle: await workflowBundle(), overrides: { shutdownGraceTime: '1s' } });
  const running = worker.run();
  const server: HttpServer = createApp(config, { db, temporal: client, logger: createLogger(config), ...appPorts(ports) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  teardowns.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    worker.shutdown();
    await withDeadline('the e2e worker to shut down', 30_000, running);
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

/** A local S3 server (versitygw, which verifies signatures) with a fresh bucket, for the storage tests. */
export const localS3 = once(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'finflow-s3-'));
  const server = await startLocalS3({ dataDir: dir, accessKeyId: 'finflow-test', secretAccessKey: 'finflow-test-secret', timeoutMs: startupTimeoutMs() });
  teardowns.push(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return server;
});

/**
 * What a workflow test file needs: its own time-skipping server (time only skips when
 * nothing anywhere on the server is in flight, so one file's leftovers must never hold
 * back another's clock), the shared database and the workflow bundle, built once.
 */
export async function workflowTestBed() {
  const [env, db, bundle] = await Promise.all([freshTimeSkippingServer(), testDb(), workflowBundle()]);
  return { env, db, workflowBundle: bundle };
}
