import type { z } from 'zod';
import type { Ledger } from '../../ledger/types';
import { problems } from '../core/errors';
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
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'invalid_cursor') {
      throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
    }
    throw err;
  }
}
