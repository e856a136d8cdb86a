import { z } from 'zod';
import { FREQUENCIES, canonicalTimeZone, parseLocalDate } from '../../payments/recurring/period';
import { BillerId, CustomerRef } from '../billers/schema';
import { PageQuery, pageSchema } from '../core/pagination';
import { Amount, Currency } from '../core/schema';

/** Request and response shapes of recurring payments (docs/payments.md, "Recurring payments"). */

const MinorUnits = z.string().regex(/^[0-9]+$/).meta({ example: '1050', description: 'Integer minor units as a string (1050 = 10.50).' });

export const RecurringPaymentBody = z
  .object({
    billerId: BillerId,
    customerRef: CustomerRef,
    amount: Amount,
    fromAccountId: z.uuid({ message: 'fromAccountId must be an account id (a UUID).' }).meta({ description: "Your wallet or savings account, in the biller's currency." }),
    frequency: z.enum(FREQUENCIES).meta({
      description: '`weekly`: on the start date\'s weekday; `monthly`: on its day of the month; `quarterly`: that day every third month from its month. Days 29–31 fall on the last day of shorter months.',
    }),
    startDate: z
      .string()
      .refine((text) => parseLocalDate(text) !== undefined, { message: 'startDate must be a calendar date, YYYY-MM-DD.' })
      .meta({ example: '2027-01-31', description: 'The first day a payment may be made, in `timezone`: today or later.' }),
    timezone: z
      .string()
      .max(64)
      .refine((name) => canonicalTimeZone(name) !== undefined, { message: 'timezone must be an IANA timezone name, e.g. America/New_York.' })
      .meta({ example: 'America/New_York', description: 'Payments are made at 09:00 in this timezone, and periods are counted in it.' }),
  })
  .meta({ id: 'RecurringPaymentRequest' });

export type RecurringPaymentBody = z.infer<typeof RecurringPaymentBody>;

export const RecurringPaymentIdParams = z.object({ id: z.uuid() });
export const RecurringPaymentsQuery = PageQuery;

const RecurringStatus = z.enum(['active', 'paused', 'cancelled']);

export const RecurringPaymentSchema = z
  .object({
    id: z.uuid(),
    status: RecurringStatus,
    pausedReason: z.string().nullable().meta({ description: '`paused_by_customer`, or the failure after which dunning gave up (e.g. `insufficient_funds`).' }),
    billerId: z.string(),
    customerRef: z.string(),
    fromAccountId: z.uuid(),
    amount: MinorUnits,
    currency: Currency,
    frequency: z.enum(FREQUENCIES),
    startDate: z.string(),
    timezone: z.string(),
    localTime: z.string().meta({ example: '09:00', description: 'When, in `timezone`, each payment is made.' }),
    scheduleId: z.string().meta({ description: 'The Temporal Schedule that fires the payments.' }),
    dunning: z
      .object({
        period: z.string(),
        retries: z.number().int(),
        nextRetryAt: z.iso.datetime().nullable(),
        lastFailureReason: z.string().nullable(),
      })
      .nullable()
      .meta({ description: 'A period whose payment failed for insufficient funds and is being retried; null otherwise.' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    cancelledAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'RecurringPayment' });

export const RecurringRunSchema = z
  .object({
    period: z.string().meta({ example: '2027-03', description: '`YYYY-MM` monthly, `YYYY-Www` (ISO week) weekly, `YYYY-Qn` quarterly.' }),
    status: z.enum(['processing', 'needs_review', 'succeeded', 'retrying', 'failed', 'cancelled']),
    payments: z.array(
      z.object({
        id: z.uuid(),
        attempt: z.number().int().meta({ description: '0 for the period\'s payment, n for its n-th dunning retry.' }),
        status: z.enum(['processing', 'needs_review', 'succeeded', 'failed', 'cancelled']),
        failureReason: z.string().nullable(),
        amount: MinorUnits,
        fee: MinorUnits,
        createdAt: z.iso.datetime(),
        updatedAt: z.iso.datetime(),
      }),
    ),
  })
  .meta({ id: 'RecurringPaymentRun' });

export const RecurringPaymentDetailSchema = RecurringPaymentSchema.extend({
  nextRuns: z.array(z.iso.datetime()).meta({ description: 'The next times the Schedule fires (empty unless active).' }),
  pastRuns: z.array(RecurringRunSchema).meta({ description: 'Periods paid or attempted, newest first, each with its payments.' }),
}).meta({ id: 'RecurringPaymentDetail' });

export const RecurringPaymentPageSchema = pageSchema(RecurringPaymentSchema).meta({ id: 'RecurringPaymentPage' });
