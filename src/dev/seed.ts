import type { AppContext } from '../api/core/context';
import { createUser } from '../api/auth/service';
import { openCustomerAccount } from '../api/internal/service';
import { announcePhoneVerified, markVerified } from '../api/me/verifications/service';
import { transferIdFrom } from '../ledger/ids';
import type { TransferCode } from '../ledger/types';
import type { Logger } from '../logger';

/**
 * Demo data for `npm start`, applied once per database (recorded in `seeds`). The
 * credentials are printed at start and listed in the README, so they may exist only in
 * development databases: any other NODE_ENV seeds nothing.
 */
export const DEMO_ACCOUNTS = {
  customer: {
    email: 'demo@finflow.local',
    password: 'Sunny-Ledger-2026',
    name: 'Dana Demo',
    phone: '+14155550100',
    dateOfBirth: '1990-04-15',
  },
  friend: {
    email: 'friend@finflow.local',
    password: 'Gentle-Harbour-2026',
    name: 'Frank Friend',
    phone: '+14155550102',
    dateOfBirth: '1992-11-02',
  },
  operator: {
    email: 'ops@finflow.local',
    password: 'Steady-Ops-Console-26',
    name: 'Olive Operator',
    phone: '+14155550101',
    dateOfBirth: '1985-09-30',
  },
} as const;

// v2: demo contacts are verified (a database seeded by v1 gets them verified on the next start).
const SEED_NAME = 'demo-v2';

export async function seedDemoData(app: AppContext, logger: Logger): Promise<void> {
  if (app.config.env !== 'development') {
    logger.info({ env: app.config.env }, 'demo data is seeded only in development');
    return;
  }
  const { db } = app.deps;
  const claimed = await db('seeds').insert({ name: SEED_NAME }).onConflict('name').ignore().returning('name');
  if (claimed.length === 0) return;
  try {
    const accounts = [
      ['customer', DEMO_ACCOUNTS.customer],
      ['customer', DEMO_ACCOUNTS.friend],
      ['operator', DEMO_ACCOUNTS.operator],
    ] as const;
    for (const [role, account] of accounts) {
      const exists = await db('users').where({ email: account.email }).first('id');
      const userId = exists ? (exists as { id: string }).id : (await createUser(app, { ...account }, role)).id;
      // Demo contacts are verified, so the demo can send money to them and greet them at once.
      await markVerified(db, userId, 'email', new Date());
      await markVerified(db, userId, 'phone', new Date());
      if (role === 'customer') await announcePhoneVerified(app, userId);
    }
    // The bank side opens a savings account and a credit card for the demo customer; the
    // keys make this idempotent across a retried seed.
    const demo = await db<{ id: string; email: string }>('users').where({ email: DEMO_ACCOUNTS.customer.email }).first('id');
    if (!demo) throw new Error('the demo customer was not created');
    const currency = app.config.defaultCurrency;
    await openCustomerAccount(app, demo.id, 'demo-savings', { type: 'savings', currency });
    await openCustomerAccount(app, demo.id, 'demo-card', { type: 'credit_card', currency, creditLimit: '500000' });
    logger.info('demo data seeded');
  } catch (err) {
    // Let the next start try again; users created so far are skipped then.
    await db('seeds').where({ name: SEED_NAME }).delete();
    throw err;
  }
}

/** Demo statement lines (docs/statements.md): what the walk-through's statement shows. */
const STATEMENT_SEED_NAME = 'demo-statement-lines-v1';

const DEMO_LINES: Array<{ key: string; direction: 'credit' | 'debit'; amountMinor: bigint; code: TransferCode; description: string }> = [
  { key: 'salary-1', direction: 'credit', amountMinor: 420_000n, code: 'salary', description: 'ACME Corp payroll' },
  { key: 'grocer-1', direction: 'debit', amountMinor: 8_450n, code: 'card_purchase', description: 'Green Grocer' },
  { key: 'rent-1', direction: 'debit', amountMinor: 150_000n, code: 'bank_debit', description: 'Rent, Harbour Flats' },
  { key: 'coffee-1', direction: 'debit', amountMinor: 475n, code: 'card_purchase', description: 'Bean There Coffee' },
  { key: 'refund-1', direction: 'credit', amountMinor: 2_999n, code: 'bank_deposit', description: 'Refund, Book Nook' },
  { key: 'fuel-1', direction: 'debit', amountMinor: 6_120n, code: 'card_purchase', description: 'Quick Fuel' },
  { key: 'power-1', direction: 'debit', amountMinor: 9_800n, code: 'bank_debit', description: 'BrightGrid Power' },
  { key: 'gift-1', direction: 'credit', amountMinor: 5_000n, code: 'bank_deposit', description: 'Birthday gift' },
];

/**
 * Gives the demo customer's savings account a month of transactions and the card two
 * purchases, once per database, so the first statement asked for has lines. Posted
 * straight to the ledger with ids derived from the seed's keys (idempotent).
 */
export async function seedDemoStatementLines(app: AppContext, logger: Logger): Promise<void> {
  if (app.config.env !== 'development') return;
  const { db, ledger } = app.deps;
  const claimed = await db('seeds').insert({ name: STATEMENT_SEED_NAME }).onConflict('name').ignore().returning('name');
  if (claimed.length === 0) return;
  try {
    const demo = await db<{ id: string; email: string }>('users').where({ email: DEMO_ACCOUNTS.customer.email }).first('id');
    if (!demo) throw new Error('the demo customer was not created');
    const currency = app.config.defaultCurrency;
    const savings = await openCustomerAccount(app, demo.id, 'demo-savings', { type: 'savings', currency });
    const card = await openCustomerAccount(app, demo.id, 'demo-card', { type: 'credit_card', currency, creditLimit: '500000' });
    const clearing = await ledger.systemAccountId('funding_clearing', currency);
    const lines = [...DEMO_LINES.map((line) => ({ ...line, accountId: savings.id })), ...['Airline tickets', 'Hotel stay'].map((description, i) => ({ key: `card-${i}`, direction: 'debit' as const, amountMinor: BigInt(35_000 + i * 12_345), code: 'card_purchase' as const, description, accountId: card.id }))];
    for (const line of lines) {
      const [debitAccountId, creditAccountId] = line.direction === 'credit' ? [clearing, line.accountId] : [line.accountId, clearing];
      await ledger.createTransfer({ id: transferIdFrom(`demo:${line.key}`), debitAccountId, creditAccountId, amountMinor: line.amountMinor, currency, code: line.code, metadata: { description: line.description } });
    }
    logger.info('demo statement lines seeded');
  } catch (err) {
    await db('seeds').where({ name: STATEMENT_SEED_NAME }).delete();
    throw err;
  }
}
