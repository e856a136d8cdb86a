import type { z } from 'zod';
import type { RequestRow } from '../core/money-requests';
import type { TransferSchema } from './schema';

export interface CustomerTransferRow extends RequestRow {
  user_id: string;
  from_account_id: string;
  to_account_id: string;
  to_user_id: string | null;
  recipient: { email: string } | { phone: string };
  /** Null for transfers made before recipients were shown. */
  recipient_display: { name: string; contact: string } | null;
  amount_minor: string;
  currency: string;
  note: string | null;
  transfer_id: string | null;
  workflow_id: string;
  created_at: Date;
  updated_at: Date;
}

/** What the sender sees: the recipient as they named them, never the recipient's account. */
export function presentTransfer(row: CustomerTransferRow): z.infer<typeof TransferSchema> {
  return {
    id: row.id,
    fromAccountId: row.from_account_id,
    to: row.recipient,
    recipient: row.recipient_display,
    amount: String(row.amount_minor),
    currency: row.currency,
    note: row.note,
    status: row.status,
    failureReason: row.failure_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
