import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import type { Db } from '../../src/db/knex';
import { accountIdFrom } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/service';
import type { Account } from '../../src/ledger/types';
import { insertCustomer } from './fixtures';

/** Ledger set-up for wallet, transfer and posting tests, straight through the ledger service. */

/** The customer's wallet, opened with the id signup uses (so opening it twice is a no-op). */
export async function openWallet(db: Db, userId: string, currency = 'USD'): Promise<Account> {
  return createLedger(db).openAccount({ id: accountIdFrom(`wallet:${userId}:${currency}`), ownerUserId: userId, type: 'wallet', currency });
}

/** Puts money on an account from the funding clearing account (a bank deposit), returning the transfer id. */
export async function deposit(db: Db, accountId: string, amountMinor: bigint, currency = 'USD'): Promise<string> {
  const ledger = createLedger(db);
  const clearing = await ledger.ensureSystemAccount('funding_clearing', currency);
  const id = randomUUID();
  await ledger.createTransfer({ id, debitAccountId: clearing.id, creditAccountId: accountId, amountMinor, currency, code: 'bank_deposit', metadata: { description: 'test deposit' } });
  return id;
}

/** A customer row and their wallet, optionally with a starting balance. */
export async function customerWithWallet(
  db: Db,
  options: { name?: string; phone?: string; balanceMinor?: bigint; currency?: string } = {},
): Promise<{ userId: string; wallet: Account }> {
  const userId = await insertCustomer(db, { name: options.name, phone: options.phone });
  const wallet = await openWallet(db, userId, options.currency);
  if (options.balanceMinor) await deposit(db, wallet.id, options.balanceMinor, wallet.currency);
  return { userId, wallet };
}

/** A valid US number unlikely to repeat between tests, never one the sandbox SMS scripts (…0001–…0004). */
export function uniquePhone(): string {
  for (;;) {
    const exchange = 200 + Math.floor(Math.random() * 800);
    const line = 1000 + Math.floor(Math.random() * 9000);
    const phone = `+1415${exchange}${line}`;
    if (isValidPhoneNumber(phone)) return phone;
  }
}

export async function balanceOf(db: Db, accountId: string): Promise<Account['balances']> {
  const account = await createLedger(db).getAccount(accountId);
  if (!account) throw new Error(`no account ${accountId}`);
  return account.balances;
}

/** Ledger transfers that touch an account. */
export async function transfersOf(db: Db, accountId: string) {
  return (await createLedger(db).listTransfers(accountId, { limit: 1000 })).data;
}

/** The ledger's first invariant: in every currency, debits equal credits, posted and pending. */
export async function assertLedgerBalanced(db: Db): Promise<void> {
  for (const row of await createLedger(db).trialBalance()) {
    assert.equal(row.posted.differenceMinor, 0n, `${row.currency} posted`);
    assert.equal(row.pending.differenceMinor, 0n, `${row.currency} pending`);
  }
}
