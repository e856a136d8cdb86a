import type { Account, Ledger } from '../../ledger/types';
import { problems, type FieldError } from './errors';

/**
 * The caller's own account, or 404: another customer's account is indistinguishable from none.
 * The 404 names `field`, a path parameter when it is `id` (or `location` says so), else a body field.
 */
export async function ownAccount(
  ledger: Ledger,
  userId: string,
  accountId: string,
  field = 'id',
  location: FieldError['in'] = field === 'id' ? 'path' : 'body',
): Promise<Account> {
  const account = await ledger.getAccount(accountId);
  if (!account || account.ownerUserId !== userId) throw problems.accountNotFound(field, location);
  return account;
}
