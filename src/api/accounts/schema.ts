import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination';

/** Money leaves the server as a string of minor units. */
export const MinorUnits = z.string().regex(/^-?[0-9]+$/).meta({ example: '1050', description: 'Integer minor units (1050 = 10.50).' });

export const AccountSchema = z
  .object({
    id: z.uuid(),
    type: z.enum(['wallet', 'savings', 'credit_card', 'cashback']),
    currency: z.string().length(3),
    balances: z.object({ posted: MinorUnits, pending: MinorUnits, available: MinorUnits }),
    creditLimit: MinorUnits.nullable(),
    maskedNumber: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Account' });

export const TransactionSchema = z
  .object({
    id: z.uuid(),
    accountId: z.uuid(),
    /** From the account holder's side: money in is a credit. */
    direction: z.enum(['credit', 'debit']),
    kind: z.enum(['posted', 'pending', 'post_pending', 'void_pending', 'expire_pending']),
    amount: MinorUnits,
    currency: z.string().length(3),
    code: z.string(),
    description: z.string().nullable(),
    pendingId: z.uuid().nullable(),
    balanceAfter: MinorUnits.nullable().meta({
      description: "The account's posted balance right after this transaction; null for a hold (`pending`) or its release, which move only the available balance, and on system accounts.",
    }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Transaction' });

export const AccountIdParams = z.object({ id: z.uuid() });

export const TransactionsQuery = PageQuery.extend({
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Inclusive lower bound (ISO 8601).' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Exclusive upper bound (ISO 8601).' }),
}).refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] });

export const TransactionPageSchema = pageSchema(TransactionSchema).meta({ id: 'TransactionPage' });
