import { defineQuery } from '@temporalio/workflow';

/**
 * What the banking line's workflows take and answer (bank postings, and the transaction
 * alerts every money workflow sends): the only workflow module the API and the
 * activities import.
 */

/** The bank side's word for why it posts. */
export type BankPostingCode = 'deposit' | 'salary' | 'card_purchase' | 'fee' | 'adjustment';

export interface BankPostingInput {
  /** The ledger transfer's id, derived by the API from the bank side's Idempotency-Key. */
  postingId: string;
  /** The account's holder, for the CustomerId search attribute and the record. */
  customerId: string;
  accountId: string;
  direction: 'credit' | 'debit';
  amountMinor: string;
  currency: string;
  code: BankPostingCode;
  description: string;
}

export type BankPostingResult =
  | { postingId: string; status: 'succeeded'; alerts: HolderAlert[] }
  | { postingId: string; status: 'failed'; reason: string };

export type BankPostingWorkflow = (input: BankPostingInput) => Promise<BankPostingResult>;

/** What became of one transaction alert SMS. */
export type SendTransactionAlertResult =
  | { status: 'sent'; notificationId: string; fresh: boolean }
  /** `opted_out`: the holder turned alerts off; `no_holder`: a system or erased account. */
  | { status: 'skipped'; reason: 'opted_out' | 'no_holder' };

export type AlertOutcome = SendTransactionAlertResult | { status: 'failed'; reason: string };

export interface HolderAlert {
  accountId: string;
  outcome: AlertOutcome;
}

// ---------------------------------------------------------------------------
// Statements (docs/statements.md)
// ---------------------------------------------------------------------------

/** Who asked for a statement: the customer through the API, the monthly run, or an SMS. */
export type StatementSource = 'api' | 'monthly' | 'sms';

/** The last `lastN` posted lines before `asOf`, or the lines in [from, to); ISO 8601 instants. */
export type StatementPeriod = { lastN: number; asOf: string } | { from: string; to: string };

export interface StatementInput {
  /** Derived from the workflow id (the Idempotency-Key, the month or the inbound SMS). */
  statementId: string;
  userId: string;
  accountId: string;
  source: StatementSource;
  period: StatementPeriod;
  /** `YYYY-MM`, for a monthly statement only. */
  month?: string;
}

export type StatementResult =
  | { statementId: string; status: 'ready'; objectKey: string }
  | { statementId: string; status: 'failed'; reason: string };

export type StatementWorkflow = (input: StatementInput) => Promise<StatementResult>;

export interface MonthlyStatementsInput {
  /** `YYYY-MM`; when absent, the month before the scheduled (or start) time. */
  month?: string;
  /** Carried across continue-as-new: the last account of the previous run's page. */
  afterAccountId?: string;
  progress?: MonthlyStatementsProgress;
  /** Accounts per run before continuing as new (default 500; tests use a small one). */
  pageSize?: number;
}

export interface MonthlyStatementsProgress {
  month: string;
  /** Accounts with activity in the month, counted when the run began. */
  total: number;
  done: number;
  failed: number;
}

export type MonthlyStatementsWorkflow = (input: MonthlyStatementsInput) => Promise<MonthlyStatementsProgress>;

/** Done / total of a monthly run, across its continue-as-new chain. */
export const monthlyStatementsProgressQuery = defineQuery<MonthlyStatementsProgress>('progress');

/**
 * The daily statement run (docs/statements.md): every statement whose cycle closes on
 * `date`, the credit cards whose statement day it is and, on a month's last day, the
 * other accounts' calendar month.
 */
export interface StatementCyclesInput {
  /** The statement date, `YYYY-MM-DD` (UTC); when absent, the day before the scheduled (or start) time. */
  date?: string;
  /** Carried across continue-as-new: the last account of the previous run's page. */
  afterAccountId?: string;
  progress?: StatementCyclesProgress;
  /** Accounts per run before continuing as new (default 500; tests use a small one). */
  pageSize?: number;
  /** Statements running at once (default 50). */
  window?: number;
}

export interface StatementCyclesProgress {
  date: string;
  /** Accounts whose statement closes on the date, counted when the run began. */
  total: number;
  done: number;
  failed: number;
}

export type StatementCyclesWorkflow = (input: StatementCyclesInput) => Promise<StatementCyclesProgress>;

/** Done / total of a daily run, across its continue-as-new chain. */
export const statementCyclesProgressQuery = defineQuery<StatementCyclesProgress>('progress');

export interface SmsBankingInput {
  /** The `sms_inbound` row: the provider's message, stored once. */
  inboundId: string;
}

export type SmsBankingResult = { outcome: string };

export type SmsBankingWorkflow = (input: SmsBankingInput) => Promise<SmsBankingResult>;
