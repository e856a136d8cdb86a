import { z } from 'zod';
import { Amount, Currency } from '../core/schema';

/** Request and response shapes of cashback redemption (docs/wallet.md, "Cashback"). */

const MinorUnits = z.string().regex(/^-?[0-9]+$/).meta({ example: '1050', description: 'Integer minor units as a string.' });

export const RedeemBody = z
  .object({
    amount: Amount,
    currency: Currency.optional().meta({ description: 'Which cashback to redeem; defaults to the currency of your first wallet.' }),
  })
  .meta({ id: 'CashbackRedeemRequest' });

export type RedeemBody = z.infer<typeof RedeemBody>;

export const RedemptionSchema = z
  .object({
    transferId: z.uuid().meta({ description: 'The ledger transfer cashback → wallet.' }),
    amount: MinorUnits,
    currency: Currency,
    cashbackAccountId: z.uuid(),
    walletAccountId: z.uuid(),
    cashbackAvailable: MinorUnits.meta({ description: 'The cashback account\'s available balance after the redemption.' }),
    walletAvailable: MinorUnits.meta({ description: 'The wallet\'s available balance after the redemption.' }),
  })
  .meta({ id: 'CashbackRedemption' });
