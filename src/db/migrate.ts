import { runMain } from '../run';
import { loadConfig } from '../config';
import { createDb, migrateLatest } from './knex';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (an unset NODE_ENV means production). */
async function main(): Promise<void> {
  const db = createDb(loadConfig(process.env, { defaultEnv: 'production' }));
  try {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await db.destroy();
  }
}

runMain(main);
