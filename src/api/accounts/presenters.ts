import type { Account, Transfer } from '../../ledger/types';
import { maskAccount } from '../../money/money';

/** Exactly the fields of an account that leave the server. */
export function presentAccount(account: Account) {
  return {
    id: account.id,
    type: account.type as 'wallet' | 'savings' | 'credit_card' | 'cashback',
    currency: account.currency,
    balances: {
      posted: account.balances.postedMinor.toString(),
      pending: account.balances.pendingMinor.toString(),
      available: account.balances.availableMinor.toString(),
    },
    creditLimit: account.type === 'credit_card' ? account.creditLimitMinor.toString() : null,
    maskedNumber: maskAccount(account.id),
    createdAt: account.createdAt.toISOString(),
  };
}

/** A transfer as one line of an account's history, seen from that account. */
export function presentTransaction(accountId: string, transfer: Transfer, balanceAfterMinor: bigint | undefined) {
  const description = transfer.metadata.description;
  return {
    id: transfer.id,
    accountId,
    direction: transfer.creditAccountId === accountId ? ('credit' as const) : ('debit' as const),
    kind: transfer.kind,
    amount: transfer.amountMinor.toString(),
    currency: transfer.currency,
    code: transfer.code,
    description: typeof description === 'string' ? description : null,
    pendingId: transfer.pendingId,
    balanceAfter: balanceAfterMinor === undefined ? null : balanceAfterMinor.toString(),
    createdAt: transfer.createdAt.toISOString(),
  };
}
