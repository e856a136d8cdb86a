import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination';
import { BillerId, CustomerRef } from '../billers/schema';
import { Amount, Currency } from '../core/schema';

/** Request and response shapes of bill and card payments (docs/payments.md). */

const MinorUnits = z.string().regex(/^[0-9]+$/).meta({ example: '1050', description: 'Integer minor units as a string (1050 = 10.50).' });
const UseCashback = z.boolean().optional().meta({
  description: 'Spend your cashback first: it pays the amount, then the fee; fromAccountId pays the rest, all in one hold. Cashback is earned only on the part of the amount fromAccountId paid.',
});
const AccountId = (field: string) => z.uuid({ message: `${field} must be an account id (a UUID).` });

export const PaymentBody = z
  .object({
    billerId: BillerId,
    customerRef: CustomerRef,
    amount: Amount,
    fromAccountId: AccountId('fromAccountId').meta({ description: 'Your wallet or savings account, in the biller\'s currency.' }),
    useCashback: UseCashback,
  })
  .meta({ id: 'PaymentRequest' });

export type PaymentBody = z.infer<typeof PaymentBody>;

export const CardPaymentBody = z
  .object({
    fromAccountId: AccountId('fromAccountId').meta({ description: 'Your savings account (or wallet), in the card\'s currency.' }),
    amount: Amount,
  })
  .meta({ id: 'CardPaymentRequest' });

export type CardPaymentBody = z.infer<typeof CardPaymentBody>;

export const ResolvePaymentBody = z
  .object({
    outcome: z.enum(['paid', 'not_paid']).meta({ description: '`paid`: the biller has the money, the hold is posted; `not_paid`: it does not, the hold is voided.' }),
    note: z.string().trim().min(1).max(1000).meta({ description: 'How the operator found out (who at the biller, which reference).' }),
  })
  .meta({ id: 'ResolvePaymentRequest' });

export type ResolvePaymentBody = z.infer<typeof ResolvePaymentBody>;

export const PaymentIdParams = z.object({ id: z.uuid() });
export const CardIdParams = z.object({ cardId: z.uuid({ message: 'cardId must be an account id (a UUID).' }) });
export const PaymentsQuery = PageQuery;

const StepName = z.enum(['validate', 'hold', 'pay_biller', 'post', 'cashback', 'notify']);
const StepStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'needs_review', 'compensated', 'compensation_failed', 'skipped']);

export const PaymentStepSchema = z
  .object({
    step: StepName,
    status: StepStatus.meta({
      description: '`needs_review`: the biller\'s outcome is unknown and an operator decides it; `compensated`: undone by a void or a reversing transfer; `compensation_failed`: the undo failed, an operator settles it; `skipped`: the payment ended before it.',
    }),
    at: z.iso.datetime().nullable().meta({ description: 'When the step reached its status; null while pending.' }),
    reason: z.string().nullable(),
    history: z.array(z.object({ status: StepStatus, at: z.iso.datetime(), reason: z.string().nullable() })).meta({
      description: 'Every status the step reached, oldest first.',
    }),
  })
  .meta({ id: 'PaymentStep' });

export const PaymentSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(['bill', 'card']),
    status: z.enum(['processing', 'needs_review', 'succeeded', 'failed', 'cancelled']).meta({
      description:
        '`needs_review`: the biller may or may not have been paid; the money stays held (nothing is refunded) until an operator resolves the payment.',
    }),
    resolution: z
      .object({ outcome: z.enum(['paid', 'not_paid']), note: z.string(), at: z.iso.datetime() })
      .nullable()
      .meta({ description: 'An operator\'s resolution of a payment that needed review; null otherwise.' }),
    failureReason: z.string().nullable().meta({ example: 'biller_declined' }),
    billerId: z.string().nullable(),
    customerRef: z.string().nullable(),
    fromAccountId: z.uuid(),
    cardId: z.uuid().nullable().meta({ description: 'The credit card a card payment pays.' }),
    amount: MinorUnits,
    fee: MinorUnits,
    total: MinorUnits.meta({ description: 'amount + fee: what leaves fromAccountId.' }),
    cashback: MinorUnits,
    useCashback: z.boolean(),
    cashbackUsed: MinorUnits.meta({ description: 'What your cashback paid of total (with useCashback); fromAccountId paid the rest.' }),
    billerReference: z.string().nullable().meta({ description: 'The biller\'s own reference for the payment, once it accepted it.' }),
    currency: Currency,
    recurringPaymentId: z.uuid().nullable(),
    period: z.string().nullable(),
    retryOf: z.uuid().nullable().meta({ description: 'The first attempt this payment retries; null for a first attempt.' }),
    attempts: z
      .array(
        z.object({
          attempt: z.number().int().min(1),
          id: z.uuid(),
          status: z.enum(['processing', 'needs_review', 'succeeded', 'failed', 'cancelled']),
          failureReason: z.string().nullable(),
          createdAt: z.iso.datetime(),
        }),
      )
      .meta({ description: 'Every attempt to pay this bill (the first and its retries), oldest first, this one included.' }),
    steps: z.array(PaymentStepSchema),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Payment' });

export const PaymentPageSchema = pageSchema(PaymentSchema).meta({ id: 'PaymentPage' });

export const QuoteBody = z
  .object({
    billerId: BillerId,
    customerRef: CustomerRef,
    amount: Amount,
    fromAccountId: z.uuid({ message: 'fromAccountId must be an account id (a UUID).' }).optional(),
    useCashback: UseCashback,
  })
  .meta({ id: 'PaymentQuoteRequest' });

export type QuoteBody = z.infer<typeof QuoteBody>;

export const QuoteSchema = z
  .object({
    billerId: BillerId,
    customerRef: z.string(),
    customerName: z.string(),
    currency: Currency,
    amount: MinorUnits,
    fee: MinorUnits,
    total: MinorUnits.meta({ description: 'amount + fee: what leaves the account.' }),
    cashback: MinorUnits.meta({ description: 'Credited to the cashback account after the payment succeeds (capped monthly).' }),
    cashbackRateBps: z.number().int(),
    cashbackUsed: MinorUnits.meta({ description: 'What your cashback would pay of total (useCashback), at its balance now.' }),
    fromAccount: MinorUnits.meta({ description: 'What the account would pay: total − cashbackUsed.' }),
    monthlyCashbackCap: z.object({
      limit: MinorUnits,
      used: MinorUnits.meta({ description: 'Granted this calendar month (UTC), before this payment.' }),
      remaining: MinorUnits.meta({ description: 'What the cap still allows before this payment.' }),
    }),
    sufficientFunds: z.boolean().nullable().meta({ description: "Whether fromAccountId's available balance covers total; null without fromAccountId." }),
    rules: z.array(
      z.object({
        rule: z.enum(['no_fee', 'fee_fixed', 'fee_percentage', 'cashback_rate', 'cashback_tier', 'cashback_amount', 'cashback_monthly_cap', 'cashback_spent']),
        description: z.string(),
      }),
    ),
  })
  .meta({ id: 'PaymentQuote' });
