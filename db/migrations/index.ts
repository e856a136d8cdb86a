import type { Knex } from 'knex';
import * as platform from './20261123_001_platform';
import * as messaging from './20261123_003_messaging';

/**
 * Migrations are listed here rather than discovered on disk, so they run the same from
 * TypeScript sources, the compiled dist/ and a bundled image. Append only.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261123_001_platform': platform,
  '20261123_003_messaging': messaging,
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
