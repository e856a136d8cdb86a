import type { RequestRow } from '../core/money-requests';
import type { FundingSchema } from './schema';
import type { z } from 'zod';

export interface FundingRow extends RequestRow {
  user_id: string;
  account_id: string;
  amount_minor: string;
  currency: string;
  source_type: 'card' | 'bank_account';
  processor_charge_id: string | null;
  transfer_id: string | null;
  workflow_id: string;
  created_at: Date;
  updated_at: Date;
}

/** Exactly the fields of a funding that leave the server (no processor ids, no token). */
export function presentFunding(row: FundingRow): z.infer<typeof FundingSchema> {
  return {
    id: row.id,
    accountId: row.account_id,
    amount: String(row.amount_minor),
    currency: row.currency,
    source: { type: row.source_type },
    status: row.status,
    failureReason: row.failure_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
