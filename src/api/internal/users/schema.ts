import { z } from 'zod';
import { Amount, Currency } from '../../core/schema';

/** Request shapes of opening an account for a customer (`/internal/v1/users/{userId}/accounts`). */

export const UserIdParams = z.object({ userId: z.uuid() });

export const OpenAccountBody = z
  .object({
    type: z.enum(['savings', 'credit_card']),
    currency: Currency,
    creditLimit: Amount.or(z.literal('0')).optional().meta({ description: 'The card limit in minor units; required for a credit card, not allowed otherwise.' }),
    statementDay: z
      .int()
      .min(1)
      .max(31)
      .optional()
      .meta({ description: "The day of the month a credit card's statement cycle closes (in a shorter month, its last day); default 1. Only for a credit card." }),
  })
  .superRefine((body, ctx) => {
    if (body.type === 'credit_card' && body.creditLimit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['creditLimit'], message: 'creditLimit is required for a credit card.' });
    }
    if (body.type !== 'credit_card' && body.creditLimit !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['creditLimit'], message: 'creditLimit is only for a credit card.' });
    }
    if (body.type !== 'credit_card' && body.statementDay !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['statementDay'], message: 'statementDay is only for a credit card.' });
    }
  })
  .meta({ id: 'OpenAccountRequest' });

export type OpenAccountBody = z.infer<typeof OpenAccountBody>;
