import { z } from 'zod';
import { NOT_BLANK_PATTERN } from '../core/patterns';
import { EMAIL_PATTERN } from '../auth/schema';
import { Amount, Currency, RequestStatus } from '../core/schema';

/** Request and response shapes of customer-to-customer transfers. */

const E164 = /^\+[1-9]\d{6,14}$/;

const Recipient = z
  .object({
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(254)
      .check(z.email({ message: 'to.email must be a valid email address.' }))
      .meta({ pattern: EMAIL_PATTERN })
      .optional(),
    phone: z.string().regex(E164, { message: 'to.phone must be in E.164 format, e.g. +14155550123.' }).optional(),
  })
  .refine((to) => (to.email === undefined) !== (to.phone === undefined), { message: 'to must name exactly one of email or phone.' })
  // The refinement above, as JSON Schema states it: exactly one of the two fields.
  .meta({
    description: "The recipient: a customer's email or phone. Money lands in their wallet in the transfer's currency.",
    oneOf: [{ required: ['email'] }, { required: ['phone'] }],
  });

export const TransferBody = z
  .object({
    fromAccountId: z.uuid({ message: 'fromAccountId must be an account id (a UUID).' }),
    to: Recipient,
    amount: Amount,
    currency: Currency.optional().meta({ description: "Defaults to the source account's currency; if given, it must match." }),
    note: z.string().trim().min(1).max(140, { message: 'note must be at most 140 characters.' }).meta({ pattern: NOT_BLANK_PATTERN }).optional(),
  })
  .meta({ id: 'TransferRequest' });

export type TransferBody = z.infer<typeof TransferBody>;

export const TransferSchema = z
  .object({
    id: z.uuid().meta({ description: 'Also the id of the ledger transfer.' }),
    fromAccountId: z.uuid(),
    to: z.union([z.object({ email: z.string() }), z.object({ phone: z.string() })]),
    recipient: z
      .object({
        name: z.string().meta({ example: 'J*** D***' }),
        contact: z.string().meta({ example: '+1******0142' }),
      })
      .nullable()
      .meta({ description: 'Whom the money reaches, masked: check it is the person you meant.' }),
    amount: Amount,
    currency: Currency,
    note: z.string().nullable(),
    status: RequestStatus,
    failureReason: z.string().nullable().meta({ example: 'insufficient_funds' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Transfer' });
