import knex, { type Knex } from 'knex';
import type { Config } from '../config';
import { migrationSource } from '../../db/migrations';

export type Db = Knex;

/**
 * One knex pool per process. Timeouts are short on purpose: when PostgreSQL is down,
 * requests fail fast with a 503 instead of queueing, and the pool reconnects by itself
 * when it comes back.
 */
export function createDb(config: Pick<Config, 'database' | 'dependencyTimeoutMs'>): Db {
  if (!config.database.url) throw new Error('database url is not resolved');
  return knex({
    client: 'pg',
    connection: {
      connectionString: config.database.url,
      connectionTimeoutMillis: config.dependencyTimeoutMs,
      statement_timeout: 30_000,
    },
    pool: { min: 0, max: config.database.poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: config.dependencyTimeoutMs,
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
