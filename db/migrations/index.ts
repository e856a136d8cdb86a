import type { Knex } from 'knex';
import * as platform from './20261123_001_platform';
import * as ledger from './20261123_002_ledger';
import * as messaging from './20261123_003_messaging';
import * as wallet from './20261123_004_wallet';

/**
 * Migrations are listed here rather than discovered on disk, so they run the same from
 * TypeScript sources, the compiled dist/ and a bundled image. Append only.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261123_001_platform': platform,
  '20261123_002_ledger': ledger,
  '20261123_003_messaging': messaging,
  '20261123_004_wallet': wallet,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(migrations)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return Promise.resolve(migration);
  },
};
