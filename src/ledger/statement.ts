import type { Db } from '../db/knex';
import { TRANSFER_COLUMNS, toBigInt, toTransfer, type Int8, type TransferRow } from './rows';
import type { StatementLedgerLine, StatementRange, StatementSlice } from './types';

/**
 * The posted lines of one account for a statement, with the opening balance before the
 * first and the posted balance after each. Only transfers that move the posted balance
 * count (`posted`, `post_pending`): a hold and its release move only what is available.
 * The lines are read in (createdAt, id) order and the running balance is summed from
 * the opening balance, which is one indexed sum over what came before.
 */

const POSTED_KINDS = ['posted', 'post_pending'] as const;

/** Both sides of the account, as one query of transfer rows (each side uses its own index). */
function postedLinesOf(db: Db, accountId: string) {
  const side = (column: 'debit_account_id' | 'credit_account_id') =>
    db('ledger_transfers').select(TRANSFER_COLUMNS).where(column, accountId).whereIn('kind', POSTED_KINDS);
  return db.select('*').from(db.unionAll([side('debit_account_id'), side('credit_account_id')], true).as('t'));
}

/** The account's posted balance from every posted transfer strictly before (createdAt, id), or before `at`. */
async function balanceBefore(db: Db, accountId: string, before: { at: Date; id?: string }): Promise<bigint> {
  const bound = before.id ? '(created_at, id) < (?::timestamptz, ?::uuid)' : 'created_at < ?::timestamptz';
  const bindings = before.id ? [before.at, before.id] : [before.at];
  const { rows } = await db.raw<{ rows: Array<{ balance: Int8 | null }> }>(
    `select sum(case when credit_account_id = ? then amount_minor else -amount_minor end) as balance
       from ledger_transfers
      where (debit_account_id = ? or credit_account_id = ?) and kind in ('posted', 'post_pending') and ${bound}`,
    [accountId, accountId, accountId, ...bindings],
  );
  return toBigInt(rows[0]?.balance);
}

export async function statementSlice(db: Db, accountId: string, range: StatementRange): Promise<StatementSlice> {
  let rows: TransferRow[];
  let periodFrom: Date;
  let periodTo: Date;
  let opening: bigint;
  if ('lastN' in range) {
    rows = ((await postedLinesOf(db, accountId)
      .where('created_at', '<', range.asOf)
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(range.lastN)) as TransferRow[]).reverse();
    const first = rows[0];
    periodFrom = first ? first.created_at : range.asOf;
    periodTo = range.asOf;
    opening = await balanceBefore(db, accountId, first ? { at: first.created_at, id: first.id } : { at: range.asOf });
  } else {
    rows = (await postedLinesOf(db, accountId)
      .where('created_at', '>=', range.from)
      .andWhere('created_at', '<', range.to)
      .orderBy([{ column: 'created_at', order: 'asc' }, { column: 'id', order: 'asc' }])) as TransferRow[];
    periodFrom = range.from;
    periodTo = range.to;
    opening = await balanceBefore(db, accountId, { at: range.from });
  }

  let balance = opening;
  const lines: StatementLedgerLine[] = rows.map((row) => {
    const transfer = toTransfer(row);
    const credited = transfer.creditAccountId === accountId;
    balance += credited ? transfer.amountMinor : -transfer.amountMinor;
    return { transfer, direction: credited ? 'credit' : 'debit', balanceAfterMinor: balance };
  });
  return { accountId, periodFrom, periodTo, openingBalanceMinor: opening, closingBalanceMinor: balance, lines };
}
