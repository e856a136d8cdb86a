import type { AppContext } from '../api/context';
import { createUser } from '../api/auth/service';
import type { Logger } from '../logger';

/**
 * Demo data for `npm start`, applied once per database (recorded in `seeds`). The
 * credentials are printed at start and listed in the README; they exist only in
 * development databases.
 */
export const DEMO_ACCOUNTS = {
  customer: {
    email: 'demo@finflow.local',
    password: 'Sunny-Ledger-2026',
    name: 'Dana Demo',
    phone: '+14155550100',
    dateOfBirth: '1990-04-15',
  },
  operator: {
    email: 'ops@finflow.local',
    password: 'Steady-Ops-Console-26',
    name: 'Olive Operator',
    phone: '+14155550101',
    dateOfBirth: '1985-09-30',
  },
} as const;

const SEED_NAME = 'demo-v1';

export async function seedDemoData(app: AppContext, logger: Logger): Promise<void> {
  const { db } = app.deps;
  const claimed = await db('seeds').insert({ name: SEED_NAME }).onConflict('name').ignore().returning('name');
  if (claimed.length === 0) return;
  try {
    for (const [role, account] of [['customer', DEMO_ACCOUNTS.customer], ['operator', DEMO_ACCOUNTS.operator]] as const) {
      const exists = await db('users').where({ email: account.email }).first('id');
      if (!exists) await createUser(app, { ...account }, role);
    }
    logger.info('demo data seeded');
  } catch (err) {
    // Let the next start try again; users created so far are skipped then.
    await db('seeds').where({ name: SEED_NAME }).delete();
    throw err;
  }
}
