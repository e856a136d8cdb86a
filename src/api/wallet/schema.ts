import { z } from 'zod';
import { POSITIVE_AMOUNT_PATTERN } from '../../money/money';

/** Request and response shapes of wallet funding, and the money fields the other money routes share. */

export const Amount = z
  .string({ message: 'amount must be a string of minor units, e.g. "1050" for 10.50.' })
  .regex(POSITIVE_AMOUNT_PATTERN, { message: 'amount must be a positive integer number of minor units, as a string (e.g. "1050").' })
  .meta({ example: '1050', description: 'Positive integer minor units as a string (1050 = 10.50).' });

export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code in capitals, e.g. USD.' })
  .meta({ example: 'USD' });

export const RequestStatus = z.enum(['processing', 'succeeded', 'failed']);

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

export const IdParams = z.object({ id: z.uuid() });
