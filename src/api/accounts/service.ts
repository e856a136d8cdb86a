import type { z } from 'zod';
import type { Account, Ledger, TransferPage } from '../../ledger/types';
import { problems } from '../core/errors';
import { presentTransaction } from './presenters';
import type { TransactionsQuery } from './schema';

/**
 * One page of an account's transactions, newest first, optionally within [from, to).
 * Maps the ledger's cursor error to a 400 naming `cursor`.
 */
export async function listTransactions(ledger: Ledger, accountId: string, query: z.infer<typeof TransactionsQuery>) {
  try {
    return await ledger.listTransfers(accountId, {
      limit: query.limit,
      cursor: query.cursor,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      withBalances: true,
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'invalid_cursor') {
      throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
    }
    throw err;
  }
}

/**
 * A page of transfers (read `withBalances`) as the account's transactions, each with the
 * posted balance after it. System accounts get none: their running balance would sum
 * every transfer through them on each read.
 */
export function presentTransactionPage(account: Account, page: TransferPage) {
  return { data: page.data.map((t) => presentTransaction(account.id, t, page.balancesAfter?.get(t.id))), nextCursor: page.nextCursor };
}
