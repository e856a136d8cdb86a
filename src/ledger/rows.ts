import type { Account, AccountBalances, AccountTotals, AccountType, BalanceRule, Metadata, SystemRole, Transfer, TransferKind } from './types';

/**
 * The repository edge: PostgreSQL returns bigint (int8) and numeric sums as strings;
 * they become `bigint` here and nowhere else.
 */

export type Int8 = string | number | bigint;

export const toBigInt = (value: Int8 | null | undefined): bigint => BigInt(value ?? 0);

export interface TransferRow {
  id: string;
  kind: TransferKind;
  debit_account_id: string;
  credit_account_id: string;
  amount_minor: Int8;
  currency: string;
  code: string;
  pending_id: string | null;
  timeout_at: Date | null;
  metadata: Metadata;
  created_at: Date;
}

export const TRANSFER_COLUMNS = [
  'id',
  'kind',
  'debit_account_id',
  'credit_account_id',
  'amount_minor',
  'currency',
  'code',
  'pending_id',
  'timeout_at',
  'metadata',
  'created_at',
] as const;

export function toTransfer(row: TransferRow): Transfer {
  return {
    id: row.id,
    kind: row.kind,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: toBigInt(row.amount_minor),
    currency: row.currency,
    code: row.code,
    pendingId: row.pending_id,
    timeoutAt: row.timeout_at,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

export interface AccountRow {
  id: string;
  owner_user_id: string | null;
  system_role: SystemRole | null;
  type: AccountType;
  currency: string;
  rule: BalanceRule;
  credit_limit_minor: Int8;
  debits_posted: Int8;
  debits_pending: Int8;
  credits_posted: Int8;
  credits_pending: Int8;
  created_at: Date;
}

export function toTotals(row: Pick<AccountRow, 'debits_posted' | 'debits_pending' | 'credits_posted' | 'credits_pending'>): AccountTotals {
  return {
    debitsPostedMinor: toBigInt(row.debits_posted),
    debitsPendingMinor: toBigInt(row.debits_pending),
    creditsPostedMinor: toBigInt(row.credits_posted),
    creditsPendingMinor: toBigInt(row.credits_pending),
  };
}

/** Balances as the customer sees them (docs/ledger.md, "Accounts"). */
export function balancesOf(totals: AccountTotals, creditLimitMinor: bigint): AccountBalances {
  const postedMinor = totals.creditsPostedMinor - totals.debitsPostedMinor;
  return {
    postedMinor,
    pendingMinor: totals.creditsPendingMinor - totals.debitsPendingMinor,
    availableMinor: postedMinor - totals.debitsPendingMinor + creditLimitMinor,
  };
}

/** `totals` overrides the row's own, for system accounts whose totals are summed. */
export function toAccount(row: AccountRow, totals: AccountTotals = toTotals(row)): Account {
  const creditLimitMinor = toBigInt(row.credit_limit_minor);
  return {
    id: row.id,
    ownerUserId: row.owner_user_id,
    systemRole: row.system_role,
    type: row.type,
    currency: row.currency,
    rule: row.rule,
    creditLimitMinor,
    totals,
    balances: balancesOf(totals, creditLimitMinor),
    createdAt: row.created_at,
  };
}
