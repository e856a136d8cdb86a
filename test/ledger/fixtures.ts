import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { systemAccountTotals } from '../../src/ledger/accounts';
import { createLedger } from '../../src/ledger/service';
import type { Account, AccountTotals, Ledger, PendingTransferInput, PostedTransferInput } from '../../src/ledger/types';
import { insertCustomer } from '../helpers/fixtures';
import { testDb } from '../helpers/services';

/** Shared setup for the ledger tests: a ledger over the run's database and one customer. */
export interface LedgerWorld {
  db: Db;
  ledger: Ledger;
  userId: string;
  /** The USD funding clearing account, the source of test money. */
  clearing: Account;
}

export async function ledgerWorld(): Promise<LedgerWorld> {
  const db = await testDb();
  const ledger = createLedger(db);
  const userId = await insertCustomer(db);
  const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
  return { db, ledger, userId, clearing };
}

export function posted(debitAccountId: string, creditAccountId: string, amountMinor: bigint, extra: Partial<PostedTransferInput> = {}): PostedTransferInput {
  return { id: randomUUID(), debitAccountId, creditAccountId, amountMinor, currency: 'USD', code: 'p2p_transfer', ...extra };
}

export function pending(debitAccountId: string, creditAccountId: string, amountMinor: bigint, extra: Partial<PendingTransferInput> = {}): PendingTransferInput {
  return { id: randomUUID(), kind: 'pending', debitAccountId, creditAccountId, amountMinor, currency: 'USD', code: 'bill_payment', ...extra };
}

/** A fresh wallet of the world's customer, funded from the clearing account. */
export async function fundedWallet(world: LedgerWorld, fundedMinor: bigint): Promise<Account> {
  const wallet = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'USD' });
  if (fundedMinor > 0n) await world.ledger.createTransfer(posted(world.clearing.id, wallet.id, fundedMinor, { code: 'wallet_funding' }));
  return wallet;
}

export async function available(world: LedgerWorld, accountId: string): Promise<bigint> {
  const account = await world.ledger.getAccount(accountId);
  if (!account) throw new Error(`no account ${accountId}`);
  return account.balances.availableMinor;
}

/**
 * An account's totals twice: as the engine keeps them on the row, and as its transfers
 * sum up. Equal in a sound ledger.
 */
export async function audit(db: Db, accountId: string): Promise<{ stored: AccountTotals; summed: AccountTotals }> {
  const row = await db('ledger_accounts').where({ id: accountId }).first('debits_posted', 'debits_pending', 'credits_posted', 'credits_pending');
  const stored: AccountTotals = {
    debitsPostedMinor: BigInt(row.debits_posted),
    debitsPendingMinor: BigInt(row.debits_pending),
    creditsPostedMinor: BigInt(row.credits_posted),
    creditsPendingMinor: BigInt(row.credits_pending),
  };
  return { stored, summed: await systemAccountTotals(db, accountId) };
}
