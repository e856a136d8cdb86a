import type { StatementInput } from '../workflows/banking/contract';

/**
 * The `statements` table, shared by the API (which writes a requested statement's row
 * before it answers 202) and the statement activities (which open the row of a monthly
 * or SMS statement, and record each one's outcome).
 */

export interface StatementRow {
  id: string;
  workflow_id: string;
  user_id: string | null;
  account_id: string;
  source: StatementInput['source'];
  last_n: number | null;
  period_from: Date | null;
  period_to: Date | null;
  month: string | null;
  status: 'processing' | 'ready' | 'failed';
  failure_reason: string | null;
  object_key: string | null;
  currency: string | null;
  opening_balance_minor: string | null;
  closing_balance_minor: string | null;
  debits_minor: string | null;
  credits_minor: string | null;
  line_count: number | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns a new statement row starts with (the API writes the same before it answers 202). */
export function newStatementRow(input: StatementInput & { workflowId: string }) {
  const { period } = input;
  return {
    id: input.statementId,
    workflow_id: input.workflowId,
    user_id: input.userId,
    account_id: input.accountId,
    source: input.source,
    last_n: 'lastN' in period ? period.lastN : null,
    period_from: 'from' in period ? new Date(period.from) : null,
    period_to: new Date('to' in period ? period.to : period.asOf),
    month: input.month ?? null,
    status: 'processing' as const,
  };
}
