import type { StatementRow } from '../../banking/statement-rows';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** Exactly the fields of a statement that leave the server; the link is signed per request. */
export function presentStatement(row: StatementRow, download: { url: string; expiresAt: Date } | undefined) {
  return {
    id: row.id,
    accountId: row.account_id,
    status: row.status,
    source: row.source,
    lastN: row.last_n,
    month: row.month,
    period: { from: iso(row.period_from), to: iso(row.period_to) },
    currency: row.currency,
    openingBalance: row.opening_balance_minor === null ? null : String(row.opening_balance_minor),
    closingBalance: row.closing_balance_minor === null ? null : String(row.closing_balance_minor),
    totalDebits: row.debits_minor === null ? null : String(row.debits_minor),
    totalCredits: row.credits_minor === null ? null : String(row.credits_minor),
    lineCount: row.line_count,
    failureReason: row.failure_reason,
    downloadUrl: download?.url ?? null,
    downloadExpiresAt: download ? download.expiresAt.toISOString() : null,
    createdAt: row.created_at.toISOString(),
  };
}
