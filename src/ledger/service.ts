import type { Db } from '../db/knex';
import { ensureSystemAccount, ensureSystemAccountId, getAccount, listAccounts, openAccount, systemAccountTotals, trialBalance } from './accounts';
import { balancesOf } from './rows';
import { createTransfer, createTransfers, expirePendingTransfers, getTransfer, listTransfers, postedBalancesAfter } from './transfers';
import { statementSlice } from './statement';
import type { Account, Ledger, SystemRole } from './types';

/**
 * The ledger over a knex handle. `db` may also be a knex transaction, to make ledger
 * writes atomic with the caller's own (the engine then runs inside that transaction and
 * its locks last until the caller commits).
 */
export function createLedger(db: Db): Ledger {
  // System accounts are never deleted, so their ids can be remembered per process.
  const systemAccountIds = new Map<string, string>();

  return {
    createTransfers: (transfers, options) => createTransfers(db, transfers, options),
    createTransfer: (transfer) => createTransfer(db, transfer),
    openAccount: (input) => openAccount(db, input),
    async ensureSystemAccount(role: SystemRole, currency: string): Promise<Account> {
      const known = systemAccountIds.get(`${role}:${currency}`);
      const account = known ? await getAccount(db, known) : null;
      if (account) return account;
      const created = await ensureSystemAccount(db, role, currency);
      systemAccountIds.set(`${role}:${currency}`, created.id);
      return created;
    },
    async systemAccountId(role: SystemRole, currency: string): Promise<string> {
      const key = `${role}:${currency}`;
      const known = systemAccountIds.get(key);
      if (known) return known;
      const id = await ensureSystemAccountId(db, role, currency);
      systemAccountIds.set(key, id);
      return id;
    },
    getAccount: (id) => getAccount(db, id),
    listAccounts: (ownerUserId) => listAccounts(db, ownerUserId),
    getTransfer: (id) => getTransfer(db, id),
    listTransfers: (accountId, options) => listTransfers(db, accountId, options),
    postedBalancesAfter: (accountId, transferIds) => postedBalancesAfter(db, accountId, transferIds),
    statementSlice: (accountId, range) => statementSlice(db, accountId, range),
    trialBalance: () => trialBalance(db),
    async systemAccountBalance(id: string) {
      const totals = await systemAccountTotals(db, id);
      return { totals, balances: balancesOf(totals, 0n) };
    },
    expirePendingTransfers: (now) => expirePendingTransfers(db, now),
  };
}
