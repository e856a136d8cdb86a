import type { Knex } from 'knex';
import { calendarMonthCycle, cardCycle, isMonthEnd, statementDaysClosingOn, statementMonth, type CalendarDay, type CyclePeriod } from '../../banking/statement-cycles';
import type { Db } from '../../db/knex';
import { transferIdFrom } from '../../ledger/ids';
import { workflowIds } from '../../temporal/names';
import { DEFAULT_CARD_TERMS } from './card-terms';

/**
 * Which statements close on a day (docs/statements.md): the credit cards whose statement
 * day it is (a short month's last day stands in for the days it lacks), each over its
 * own cycle, with activity in it or an amount owed when it closed; and, on a month's last
 * day, every other customer account with activity in the month. One query, ordered by
 * account id, so the daily run pages through it across continue-as-new.
 */

export interface CycleStatementAccount {
  accountId: string;
  userId: string;
  /** Derived from the (account, month of the statement date) workflow id. */
  statementId: string;
  period: CyclePeriod;
}

const POSTED_KINDS = ['posted', 'post_pending'];

/** The accounts a day's run makes statements for, as rows (id, owner_user_id, period_from); `to` is the same for all. */
function closingOn(db: Db, date: CalendarDay): Knex.QueryBuilder {
  const days = statementDaysClosingOn(date);
  const to = calendarEnd(date);
  // A posted line in [d.period_from, to): each side of the account on its own index (parenthesised: a raw `or` must not escape the where it joins).
  const moved = db.raw(
    `(exists (select 1 from ledger_transfers t where t.debit_account_id = a.id and t.kind = any(?) and t.created_at >= d.period_from and t.created_at < ?)
      or exists (select 1 from ledger_transfers t where t.credit_account_id = a.id and t.kind = any(?) and t.created_at >= d.period_from and t.created_at < ?))`,
    [POSTED_KINDS, to, POSTED_KINDS, to],
  );
  // A card is owed money when its posted debits up to the close exceed its credits.
  const owedAtClose = db.raw(
    `(select coalesce(sum(case when t.credit_account_id = a.id then t.amount_minor else -t.amount_minor end), 0)
        from ledger_transfers t
       where (t.debit_account_id = a.id or t.credit_account_id = a.id) and t.kind = any(?) and t.created_at < ?) < 0`,
    [POSTED_KINDS, to],
  );
  const cycles = db.raw(`(values ${days.map(() => '(?::int, ?::timestamptz)').join(', ')}) as d (statement_day, period_from)`, days.flatMap((d) => [d, cardCycle(d, date).from]));
  const cards = db('ledger_accounts as a')
    .leftJoin('card_terms as ct', 'ct.account_id', 'a.id')
    .join(cycles, 'd.statement_day', db.raw('coalesce(ct.statement_day, ?)', [DEFAULT_CARD_TERMS.statementDay]))
    .where('a.type', 'credit_card')
    .whereNotNull('a.owner_user_id')
    .where((q) => q.where(moved).orWhere(owedAtClose))
    .select('a.id', 'a.owner_user_id', 'd.period_from');
  if (!isMonthEnd(date)) return cards;
  const others = db('ledger_accounts as a')
    .crossJoin(db.raw('(values (?::timestamptz)) as d (period_from)', [calendarMonthCycle(date).from]))
    .whereNot('a.type', 'credit_card')
    .whereNotNull('a.owner_user_id')
    .where(moved)
    .select('a.id', 'a.owner_user_id', 'd.period_from');
  return db.unionAll([cards, others], true);
}

/** The instant the statement date ends: the half-open end of every cycle closing on it. */
function calendarEnd(date: CalendarDay): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString();
}

export function createStatementCycleActivities({ db }: { db: Db }) {
  return {
    /** One page of the accounts whose statement closes on `date`, after `afterAccountId` by id. */
    async listCycleAccounts({ date, afterAccountId, limit }: { date: CalendarDay; afterAccountId?: string; limit: number }): Promise<CycleStatementAccount[]> {
      const rows: Array<{ id: string; owner_user_id: string; period_from: Date }> = await db
        .select('c.*')
        .from(closingOn(db, date).as('c'))
        .modify((q) => {
          if (afterAccountId) q.where('c.id', '>', afterAccountId);
        })
        .orderBy('c.id')
        .limit(limit);
      const to = calendarEnd(date);
      return rows.map((r) => ({
        accountId: r.id,
        userId: r.owner_user_id,
        statementId: transferIdFrom(workflowIds.monthlyStatement(r.id, statementMonth(date))),
        period: { from: r.period_from.toISOString(), to },
      }));
    },

    /** How many statements close on `date`. */
    async countCycleAccounts({ date }: { date: CalendarDay }): Promise<number> {
      const [row] = await db.from(closingOn(db, date).as('c')).count<Array<{ count: string }>>({ count: '*' });
      return Number(row?.count ?? 0);
    },
  };
}
