import { z } from 'zod';
import { Amount, Currency, RequestStatus } from '../core/schema';

/** Request and response shapes of wallet funding. */

export const FundBody = z
  .object({
    accountId: z.uuid({ message: 'accountId must be an account id (a UUID).' }),
    amount: Amount,
    currency: Currency,
    source: z.object({
      type: z.enum(['card', 'bank_account']),
      token: z
        .string()
        .min(1)
        .max(200)
        .meta({ example: 'tok_success', description: 'A payment method token. The sandbox scripts outcomes by token: see docs/wallet.md.' }),
    }),
  })
  .meta({ id: 'FundWalletRequest' });

export type FundBody = z.infer<typeof FundBody>;

export const FundingSchema = z
  .object({
    id: z.uuid().meta({ description: 'Also the id of the ledger transfer that credits the wallet.' }),
    accountId: z.uuid(),
    amount: Amount,
    currency: Currency,
    source: z.object({ type: z.enum(['card', 'bank_account']) }),
    status: RequestStatus,
    failureReason: z.string().nullable().meta({ example: 'card_declined' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'WalletFunding' });
