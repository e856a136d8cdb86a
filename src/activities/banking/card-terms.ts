import { DEFAULT_STATEMENT_DAY } from '../../banking/statement-cycles';
import type { Db } from '../../db/knex';
import type { Account } from '../../ledger/types';
import { formatMoney } from '../../money/money';
import { BPS_PER_UNIT, divideRounding } from '../../payments/rounding';

/**
 * What a credit card's statement and alerts state beyond its balance (table
 * `card_terms`; a card without a row has the defaults): the outstanding amount (what
 * the holder owes: the negative of the card's posted balance), the minimum due (a share
 * of the outstanding, at least a floor, never more than the outstanding) and the
 * payment due date (the statement date plus the card's due days).
 */

export interface CardTerms {
  statementDay: number;
  paymentDueDays: number;
  minimumDueBasisPoints: bigint;
  minimumDueFloorMinor: bigint;
}

export const DEFAULT_CARD_TERMS: CardTerms = { statementDay: DEFAULT_STATEMENT_DAY, paymentDueDays: 21, minimumDueBasisPoints: 500n, minimumDueFloorMinor: 2500n };

export interface CardDues {
  outstandingMinor: bigint;
  minimumDueMinor: bigint;
  /** YYYY-MM-DD. */
  paymentDueDate: string;
}

export async function cardTermsOf(db: Db, accountId: string): Promise<CardTerms> {
  const row = await db('card_terms').where({ account_id: accountId }).first();
  if (!row) return DEFAULT_CARD_TERMS;
  return {
    statementDay: Number(row.statement_day),
    paymentDueDays: Number(row.payment_due_days),
    minimumDueBasisPoints: BigInt(row.minimum_due_basis_points),
    minimumDueFloorMinor: BigInt(row.minimum_due_floor_minor),
  };
}

export function cardDues(terms: CardTerms, postedBalanceMinor: bigint, statementDate: Date): CardDues {
  const outstandingMinor = postedBalanceMinor < 0n ? -postedBalanceMinor : 0n;
  const share = divideRounding(outstandingMinor * terms.minimumDueBasisPoints, BPS_PER_UNIT, 'half_even');
  const minimumDueMinor = outstandingMinor < terms.minimumDueFloorMinor ? outstandingMinor : share > terms.minimumDueFloorMinor ? share : terms.minimumDueFloorMinor;
  const due = new Date(Date.UTC(statementDate.getUTCFullYear(), statementDate.getUTCMonth(), statementDate.getUTCDate() + terms.paymentDueDays));
  return { outstandingMinor, minimumDueMinor, paymentDueDate: due.toISOString().slice(0, 10) };
}

/** The lines a card statement adds under its closing balance, as banks word them. */
export function cardDueLines(dues: CardDues, currency: string): string[] {
  return [
    `Total outstanding: ${formatMoney(dues.outstandingMinor, currency)}`,
    `Minimum amount due: ${formatMoney(dues.minimumDueMinor, currency)}`,
    `Payment due date: ${dues.paymentDueDate}`,
  ];
}

/** The balance sentence of an SMS about an account: a card states what is owed and the credit left. */
export function balanceSentence(account: Account): string {
  if (account.type !== 'credit_card') return `Available balance: ${formatMoney(account.balances.availableMinor, account.currency)}.`;
  const owed = account.balances.postedMinor < 0n ? -account.balances.postedMinor : 0n;
  return `Total outstanding: ${formatMoney(owed, account.currency)}. Available credit: ${formatMoney(account.balances.availableMinor, account.currency)}.`;
}
