import { accountIdFrom } from '../ledger/ids';
import type { Account, Ledger } from '../ledger/types';

/**
 * A customer's cashback account in a currency: its id is derived (fixed forever), so it
 * is opened once, on the first credit, and found again by the API and the activities.
 */
export function cashbackAccountIdOf(userId: string, currency: string): string {
  return accountIdFrom(`cashback:${userId}:${currency}`);
}

/** The customer's cashback account in `currency`, or null before they earned any. */
export async function findCashbackAccount(ledger: Pick<Ledger, 'getAccount'>, userId: string, currency: string): Promise<Account | null> {
  const account = await ledger.getAccount(cashbackAccountIdOf(userId, currency));
  return account && account.ownerUserId === userId && account.type === 'cashback' ? account : null;
}
