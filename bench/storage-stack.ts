import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest, type Db } from '../src/db/knex';
import { startDevServer } from '../src/dev/temporal';
import { startLocalS3, type LocalS3Handle } from '../src/dev/versitygw';
import { createPorts, type Ports } from '../src/worker/deps';
import { benchPostgres, benchStartupTimeoutMs, type BenchPostgres } from './postgres';

/**
 * What a bench of a line that stores files runs on (cards, contact imports,
 * statements): PostgreSQL migrated, the local S3 server with the bench's bucket, the
 * sandbox providers over them and, when asked, the Temporal dev server. `stop` takes it
 * all down and deletes the S3 server's folder (the bench keeps its own files there).
 */
export interface StorageStack {
  pg: BenchPostgres;
  s3: LocalS3Handle;
  /** The S3 server's folder, deleted by `stop`: a bench may keep scratch files there. */
  s3Dir: string;
  db: Db;
  ports: Ports;
  /** How long to wait for a local service (STARTUP_TIMEOUT_MS). */
  timeoutMs: number;
  stop: () => Promise<void>;
}

export async function storageStack(options: { name: string; poolMax: number; dependencyTimeoutMs: number }): Promise<StorageStack>;
export async function storageStack(options: { name: string; poolMax: number; dependencyTimeoutMs: number; temporal: true }): Promise<StorageStack & { temporal: TestWorkflowEnvironment }>;
export async function storageStack(options: { name: string; poolMax: number; dependencyTimeoutMs: number; temporal?: boolean }): Promise<StorageStack & { temporal?: TestWorkflowEnvironment }> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const timeoutMs = benchStartupTimeoutMs();
  const s3Dir = await mkdtemp(join(tmpdir(), 'finflow-bench-s3-'));
  const [pg, temporal, s3] = await Promise.all([
    benchPostgres(`finflow_bench_${options.name}`),
    options.temporal ? startDevServer({ timeoutMs }) : undefined,
    startLocalS3({ dataDir: s3Dir, accessKeyId: 'bench', secretAccessKey: 'bench-secret', timeoutMs }),
  ]);
  const db = createDb({ database: { url: pg.url, poolMax: options.poolMax, embeddedPort: 0 }, dependencyTimeoutMs: options.dependencyTimeoutMs });
  const stop = async () => {
    await db.destroy();
    await temporal?.teardown();
    await s3.stop();
    await pg.stop();
    await rm(s3Dir, { recursive: true, force: true });
  };
  try {
    await migrateLatest(db);
    const config = loadConfig({
      NODE_ENV: 'development',
      SMS_PROVIDER: 'sandbox',
      FUNDING_PROVIDER: 'sandbox',
      BILLER_PROVIDER: 'sandbox',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      S3_BUCKET: `bench-${options.name}`,
    });
    const ports = createPorts(config, { db });
    await ports.storage.ensureBucket();
    return { pg, s3, s3Dir, db, ports, timeoutMs, stop, ...(temporal ? { temporal } : {}) };
  } catch (err) {
    await stop();
    throw err;
  }
}
