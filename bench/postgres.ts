import { mkdtemp, chmod, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { startEmbeddedPostgres } from '../src/dev/postgres';

/**
 * The PostgreSQL a bench runs against: a fresh database on DATABASE_URL's server when
 * set, else a throwaway embedded server (default settings, fsync on).
 */
export interface BenchPostgres {
  url: string;
  stop(): Promise<void>;
}

/** How long a bench waits for each local service to become ready (STARTUP_TIMEOUT_MS, default 60 s). */
export function benchStartupTimeoutMs(): number {
  return loadConfig({ NODE_ENV: 'test', STARTUP_TIMEOUT_MS: process.env.STARTUP_TIMEOUT_MS }).startupTimeoutMs;
}

export async function benchPostgres(name: string): Promise<BenchPostgres> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const { Client } = await import('pg');
    const database = `${name}_${process.pid}_${Date.now()}`;
    const admin = new Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database ${database}`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${database}`;
    return { url: url.toString(), stop: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'finflow-bench-'));
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), database: name, timeoutMs: benchStartupTimeoutMs() });
  return {
    url: pg.url,
    stop: async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
