import { z } from 'zod';
import { NOT_BLANK_PATTERN } from '../core/patterns';
import { BILLER_CATEGORIES } from '../../payments/billers/port';
import { PageQuery, pageSchema } from '../core/pagination';
import { Currency } from '../core/schema';

/** Request and response shapes of the biller catalogue and customer validation. */

const BILLER_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const MinorUnits = z.string().regex(/^[0-9]+$/).meta({ example: '1050', description: 'Integer minor units as a string (1050 = 10.50).' });

export const BillerId = z
  .string()
  .max(64, { message: 'a biller id is at most 64 characters.' })
  .regex(BILLER_ID, { message: 'a biller id is lowercase words joined by hyphens, e.g. brightgrid-power.' })
  .meta({ example: 'brightgrid-power' });

export const CustomerRef = z
  .string()
  .trim()
  .min(1, { message: 'customerRef must not be empty.' })
  .max(64, { message: 'customerRef must be at most 64 characters.' })
  .meta({ example: '4820193755', pattern: NOT_BLANK_PATTERN, description: "The customer's reference at the biller (meter, account or phone number)." });

export const BillerIdParams = z.object({ id: BillerId });

export const BillersQuery = PageQuery.extend({
  category: z.enum(BILLER_CATEGORIES).optional(),
});

export const BillerSchema = z
  .object({
    id: BillerId,
    name: z.string(),
    category: z.enum(BILLER_CATEGORIES),
    currency: Currency,
    fee: z.object({
      fixed: MinorUnits,
      rateBps: z.number().int().meta({ description: 'Basis points of the amount (75 = 0.75%), rounded half to even.' }),
    }),
    limits: z.object({ min: MinorUnits, max: MinorUnits }),
    customerRefPattern: z.string().meta({ description: 'A regular expression every customer reference must match in full.' }),
    customerRefExample: z.string(),
    cashbackRateBps: z.number().int().meta({ description: "The biller's cashback rate, or the base rate; amount tiers add to it." }),
  })
  .meta({ id: 'Biller' });

export const BillerPageSchema = pageSchema(BillerSchema).meta({ id: 'BillerPage' });

export const ValidateCustomerBody = z.object({ customerRef: CustomerRef }).meta({ id: 'ValidateCustomerRequest' });

export const CustomerValidationSchema = z
  .object({
    billerId: BillerId,
    customerRef: z.string(),
    customerName: z.string(),
    amountDue: MinorUnits.nullable().meta({ description: 'Null when the biller bills no fixed amount (airtime).' }),
    currency: Currency,
  })
  .meta({ id: 'CustomerValidation' });
