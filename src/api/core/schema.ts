import { z } from 'zod';
import { POSITIVE_AMOUNT_PATTERN } from '../../money/money';

/** Fields every money route shares: an amount, a currency, a request's status, a resource id in the path. */

export const Amount = z
  .string({ message: 'amount must be a string of minor units, e.g. "1050" for 10.50.' })
  .regex(POSITIVE_AMOUNT_PATTERN, { message: 'amount must be a positive integer number of minor units, as a string (e.g. "1050").' })
  .meta({ example: '1050', description: 'Positive integer minor units as a string (1050 = 10.50).' });

export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code in capitals, e.g. USD.' })
  .meta({ example: 'USD' });

export const RequestStatus = z.enum(['processing', 'succeeded', 'failed']);

export const IdParams = z.object({ id: z.uuid() });
