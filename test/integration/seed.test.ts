import assert from 'node:assert/strict';
import pino from 'pino';
import type { AppContext } from '../../src/api/core/context';
import type { Db } from '../../src/db/knex';
import { DEMO_ACCOUNTS, seedDemoData } from '../../src/dev/seed';
import { testConfig, testDb } from '../helpers/services';
import { createLedger } from '../../src/ledger/service';

/**
 * The demo users' passwords are in the README: they may exist only in a development
 * database. Any other NODE_ENV seeds nothing (and needs no Temporal to do so).
 */
describe('demo data', () => {
  let db: Db;

  before(async () => {
    db = await testDb();
  });

  const appIn = (env: 'test' | 'production'): AppContext => ({
    config: { ...testConfig(), env },
    deps: { db, temporal: undefined as never, logger: pino({ level: 'silent' }), ledger: createLedger(db), billers: undefined as never, notifier: undefined as never, now: () => new Date() },
  });
  const demoEmails = Object.values(DEMO_ACCOUNTS).map((account) => account.email);

  for (const env of ['test', 'production'] as const) {
    it(`seeds no demo user when NODE_ENV=${env}`, async () => {
      await seedDemoData(appIn(env), pino({ level: 'silent' }));
      assert.deepEqual(await db('users').whereIn('email', demoEmails).pluck('email'), []);
    });
  }
});
