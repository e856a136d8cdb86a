import { z } from 'zod';
import { Amount, Currency } from '../../core/schema';

/** Request shapes of opening an account for a customer (`/internal/v1/users/{userId}/accounts`). */

export const UserIdParams = z.object({ userId: z.uuid() });

export const OpenAccountBody = z
  .object({
    type: z.enum(['savings', 'credit_card']),
    currency: Currency,
    creditLimit: Amount.or(z.literal('0')).optional().meta({ description: 'The card limit in minor units; required for a credit card, not allowed otherwise.' }),
  })
  .superRefine((body, ctx) => {
    if (body.type === 'credit_card' && body.creditLimit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['creditLimit'], message: 'creditLimit is required for a credit card.' });
    }
    if (body.type !== 'credit_card' && body.creditLimit !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['creditLimit'], message: 'creditLimit is only for a credit card.' });
    }
  })
  .meta({ id: 'OpenAccountRequest' });

export type OpenAccountBody = z.infer<typeof OpenAccountBody>;
