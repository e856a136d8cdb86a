import type { z } from 'zod';
import type { RequestRow } from '../../core/money-requests';
import type { PostingSchema } from './schema';

export interface BankPostingRow extends RequestRow {
  account_id: string;
  direction: 'credit' | 'debit';
  amount_minor: string;
  currency: string;
  code: z.infer<typeof PostingSchema>['code'];
  description: string;
  transfer_id: string | null;
  workflow_id: string;
  created_at: Date;
  updated_at: Date;
}

export function presentPosting(row: BankPostingRow): z.infer<typeof PostingSchema> {
  return {
    id: row.id,
    accountId: row.account_id,
    direction: row.direction,
    amount: String(row.amount_minor),
    currency: row.currency,
    code: row.code,
    description: row.description,
    status: row.status,
    failureReason: row.failure_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
