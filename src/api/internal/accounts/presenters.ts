import type { Account, AccountBalances, AccountTotals } from '../../../ledger/types';
import { maskAccount } from '../../../money/money';

/** Exactly the fields of any account (customer or system) an operator's statement shows, with its totals and balances. */
export function presentStatementAccount(account: Account, { totals, balances }: { totals: AccountTotals; balances: AccountBalances }) {
  return {
    id: account.id,
    ownerUserId: account.ownerUserId,
    systemRole: account.systemRole,
    type: account.type,
    currency: account.currency,
    rule: account.rule,
    maskedNumber: maskAccount(account.id),
    creditLimit: account.creditLimitMinor.toString(),
    totals: {
      debitsPosted: totals.debitsPostedMinor.toString(),
      debitsPending: totals.debitsPendingMinor.toString(),
      creditsPosted: totals.creditsPostedMinor.toString(),
      creditsPending: totals.creditsPendingMinor.toString(),
    },
    balances: {
      posted: balances.postedMinor.toString(),
      pending: balances.pendingMinor.toString(),
      available: balances.availableMinor.toString(),
    },
  };
}
