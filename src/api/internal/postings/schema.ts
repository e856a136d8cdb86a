import { z } from 'zod';
import { NOT_BLANK_PATTERN } from '../../core/patterns';
import { Amount, Currency, RequestStatus } from '../../core/schema';

/** Request and response shapes of the bank side's postings (`/internal/v1/accounts/{accountId}/postings`, `/internal/v1/postings/{id}`). */

/** Where a posting goes: a customer account, by id. */
export const AccountIdParams = z.object({ accountId: z.uuid() });

export const POSTING_CODES = ['deposit', 'salary', 'card_purchase', 'fee', 'adjustment'] as const;

/** The direction each code must have; an adjustment goes either way. */
export const POSTING_DIRECTION: Record<(typeof POSTING_CODES)[number], 'credit' | 'debit' | undefined> = {
  deposit: 'credit',
  salary: 'credit',
  card_purchase: 'debit',
  fee: 'debit',
  adjustment: undefined,
};

export const PostingBody = z
  .object({
    direction: z.enum(['credit', 'debit']).meta({ description: "From the customer's side: a credit adds money, a debit takes it." }),
    amount: Amount,
    currency: Currency,
    code: z.enum(POSTING_CODES),
    description: z.string().trim().min(1).max(200).meta({ example: 'ACME Corp payroll', pattern: NOT_BLANK_PATTERN }),
  })
  .superRefine((body, ctx) => {
    const required = POSTING_DIRECTION[body.code];
    if (required && body.direction !== required) {
      ctx.addIssue({ code: 'custom', path: ['direction'], message: `A ${body.code} posting is a ${required}.` });
    }
  })
  .meta({ id: 'PostingRequest' });

export type PostingBody = z.infer<typeof PostingBody>;

export const PostingSchema = z
  .object({
    id: z.uuid().meta({ description: 'Also the id of the ledger transfer.' }),
    accountId: z.uuid(),
    direction: z.enum(['credit', 'debit']),
    amount: Amount,
    currency: Currency,
    code: z.enum(POSTING_CODES),
    description: z.string(),
    status: RequestStatus,
    failureReason: z.string().nullable().meta({ example: 'exceeds_credit_limit' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Posting' });
