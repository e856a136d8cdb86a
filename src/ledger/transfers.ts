import { emitBusinessEvent } from '../observability/business-events';
import type { Db } from '../db/knex';
import { LedgerError } from './errors';
import { isUuid, transferIdFrom } from './ids';
import { callEngine, runPrepared, toResult, type NamedStatement } from './engine';
import { TRANSFER_COLUMNS, toTransfer, type TransferRow } from './rows';
import type { AppliedTransfer, ListTransfersOptions, Transfer, TransferInput, TransferPage, TransferResult } from './types';

/** Transfers per engine call: bounds the locks and the memory of one transaction. */
export const MAX_TRANSFERS_PER_CALL = 10_000;

const EXPIRY_BATCH = 1_000;

/** The ledger_code domain's rule: snake_case, starting with a letter, at most 64 characters. */
const CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * One transfer as the engine reads it (snake_case, amounts as decimal strings so that no
 * value is rounded on the way). Shape errors are programming errors and throw here;
 * every business rule, amount signs included, is the engine's to decide.
 */
function toEngineInput(t: TransferInput, index: number): Record<string, unknown> {
  const fail = (why: string) => new TypeError(`transfer ${index}: ${why}`);
  if (!isUuid(t.id)) throw fail('id must be a uuid');
  if (t.metadata !== undefined && !isPlainObject(t.metadata)) throw fail('metadata must be a plain object');
  const base = { id: t.id, metadata: t.metadata ?? {} };
  const kind = t.kind ?? 'posted';
  switch (kind) {
    case 'posted':
    case 'pending': {
      const p = t as Extract<TransferInput, { debitAccountId: string }>;
      if (!isUuid(p.debitAccountId) || !isUuid(p.creditAccountId)) throw fail('account ids must be uuids');
      if (typeof p.amountMinor !== 'bigint') throw fail('amountMinor must be a bigint');
      if (typeof p.currency !== 'string') throw fail('currency is required');
      if (typeof p.code !== 'string' || !CODE_PATTERN.test(p.code)) throw fail('code must be snake_case');
      const timeoutAt = kind === 'pending' && 'timeoutAt' in p ? p.timeoutAt : undefined;
      if (timeoutAt !== undefined && !(timeoutAt instanceof Date && Number.isFinite(timeoutAt.getTime()))) throw fail('timeoutAt must be a valid Date');
      return {
        ...base,
        kind,
        debit_account_id: p.debitAccountId,
        credit_account_id: p.creditAccountId,
        amount_minor: p.amountMinor.toString(),
        currency: p.currency,
        code: p.code,
        timeout_at: timeoutAt?.toISOString(),
      };
    }
    case 'post_pending':
    case 'void_pending':
    case 'expire_pending': {
      const r = t as Extract<TransferInput, { pendingId: string }>;
      if (!isUuid(r.pendingId)) throw fail('pendingId must be a uuid');
      const amountMinor = kind === 'post_pending' && 'amountMinor' in r ? r.amountMinor : undefined;
      if (amountMinor !== undefined && typeof amountMinor !== 'bigint') throw fail('amountMinor must be a bigint');
      return { ...base, kind, pending_id: r.pendingId, amount_minor: amountMinor?.toString() };
    }
    default:
      throw fail(`unknown kind ${JSON.stringify(kind)}`);
  }
}

export async function createTransfers(db: Db, transfers: readonly TransferInput[], options: { linked?: boolean } = {}): Promise<TransferResult[]> {
  if (transfers.length === 0) return [];
  if (transfers.length > MAX_TRANSFERS_PER_CALL) throw new RangeError(`at most ${MAX_TRANSFERS_PER_CALL} transfers per call`);
  const rows = await callEngine(db, transfers.map(toEngineInput), options.linked === true);
  const results = rows.map((row, i) => toResult(row, transfers[i]!.id));
  for (const result of results) {
    // Counted when applied; a caller's transaction rolled back later still counted (docs/observability.md).
    if (result.status === 'created') emitBusinessEvent({ kind: 'ledger_transfer', code: result.transfer.code, transferKind: result.transfer.kind });
  }
  return results;
}

export async function createTransfer(db: Db, transfer: TransferInput): Promise<AppliedTransfer> {
  const [result] = await createTransfers(db, [transfer]);
  if (!result) throw new Error('ledger_create_transfers returned no result');
  if (result.status !== 'created' && result.status !== 'exists') throw new LedgerError(result.status, `transfer ${transfer.id}: ${result.status}`);
  return { status: result.status, transfer: result.transfer };
}

export async function getTransfer(db: Db, id: string): Promise<Transfer | null> {
  if (!isUuid(id)) return null;
  const row: TransferRow | undefined = await db('ledger_transfers').where({ id }).first(TRANSFER_COLUMNS);
  return row ? toTransfer(row) : null;
}

// ---------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------

/** Microsecond timestamps: a JS Date would round them to the millisecond and skip rows. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || !CURSOR_TIME.test(parsed[0]) || !isUuid(parsed[1])) {
    throw new LedgerError('invalid_cursor', 'the cursor is not one the ledger issued');
  }
  return { createdAt: parsed[0], id: parsed[1] };
}

/** A transfer's posted effect on account $1, seen from the account (money in is positive). */
const EFFECT = 'case when credit_account_id = $1 then amount_minor else -amount_minor end';

/** A constrained account's posted balance now, as `account (posted)`; empty for a system account. */
const ACCOUNT_POSTED = `account as (
       select credits_posted - debits_posted as posted from ledger_accounts where id = $1 and rule <> 'none'
     )`;

/**
 * The posted transfers of account $1 from the transfer in `oldest (created_at, id)` on,
 * as `since (id, created_at, effect)`, and the balance after each, counted back from
 * `account (posted)`, as `counted (id, balance_after)`.
 */
const COUNTED_BACK = `since as (
       select t.id, t.created_at, ${EFFECT} as effect
         from oldest o join ledger_transfers t on (t.created_at, t.id) >= (o.created_at, o.id)
        where t.debit_account_id = $1 and t.kind in ('posted', 'post_pending')
       union all
       select t.id, t.created_at, ${EFFECT}
         from oldest o join ledger_transfers t on (t.created_at, t.id) >= (o.created_at, o.id)
        where t.credit_account_id = $1 and t.kind in ('posted', 'post_pending')
     ),
     counted as (
       select s.id, a.posted - coalesce(sum(s.effect) over (order by s.created_at desc, s.id desc rows between unbounded preceding and 1 preceding), 0)
                as balance_after
         from since s cross join account a
     )`;

const BALANCES_AFTER: NamedStatement = {
  name: 'ledger_posted_balances_after_v1',
  text: `with ${ACCOUNT_POSTED},
     oldest as (
       select created_at, id from ledger_transfers
        where id = any($2::uuid[]) and (debit_account_id = $1 or credit_account_id = $1)
        order by created_at, id limit 1
     ),
     ${COUNTED_BACK}
     select id, balance_after from counted
     where id = any($2::uuid[])
     union all
     select null, null where not exists (select from account)`,
};

const BALANCES_FROM_START: NamedStatement = {
  name: 'ledger_posted_balances_from_start_v1',
  text: `select id, balance_after from (
       select id, sum(${EFFECT}) over (order by created_at, id rows unbounded preceding) as balance_after
       from ledger_transfers
       where (debit_account_id = $1 or credit_account_id = $1) and kind in ('posted', 'post_pending')
     ) running
     where id = any($2::uuid[])`,
};

/**
 * Running posted balances, derived at read time (the write path keeps only totals). For
 * a constrained account, counted back from its stored posted balance: the balance after
 * a transfer is today's minus the posted effects that came after it, so a page reads only
 * the transfers from its oldest one on (the first page of a history: the page itself),
 * whatever the length of the history. One statement, so the totals and the transfers are
 * one snapshot. A system account keeps no totals (the statement answers one null row):
 * its balances are summed from the start.
 */
export async function postedBalancesAfter(db: Db, accountId: string, transferIds: readonly string[]): Promise<Map<string, bigint>> {
  const ids = transferIds.filter(isUuid);
  if (!isUuid(accountId) || ids.length === 0) return new Map();
  type Row = { id: string | null; balance_after: string | null };
  // A PostgreSQL array literal: knex, inside a caller's transaction, would spread a JS array into separate bindings.
  const values = [accountId, `{${ids.join(',')}}`];
  let rows = await runPrepared<Row>(db, BALANCES_AFTER, values);
  if (rows.length === 1 && rows[0]!.id === null) rows = await runPrepared<Row>(db, BALANCES_FROM_START, values);
  return new Map(rows.map((row) => [row.id!, BigInt(row.balance_after!)]));
}

/**
 * The page query as a prepared statement: one text (and name) per combination of the
 * optional bounds, since an unused parameter would have no type. Each side of the account
 * is its own index range scan, merged and cut to the page.
 */
function pageStatement(
  accountId: string,
  limit: number,
  after: { createdAt: string; id: string } | null,
  options: Pick<ListTransfersOptions, 'from' | 'to' | 'withBalances'>,
): [NamedStatement, unknown[]] {
  const values: unknown[] = [accountId, limit + 1];
  const bounds: string[] = [];
  if (after) {
    values.push(after.createdAt, after.id);
    bounds.push(`and (created_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
  }
  if (options.from) {
    values.push(options.from);
    bounds.push(`and created_at >= $${values.length}::timestamptz`);
  }
  if (options.to) {
    values.push(options.to);
    bounds.push(`and created_at < $${values.length}::timestamptz`);
  }
  const side = (column: string) =>
    `(select ${TRANSFER_COLUMNS.join(', ')}, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
        from ledger_transfers where ${column} = $1::uuid ${bounds.join(' ')}
       order by created_at desc, id desc limit $2)`;
  const page = `select * from (${side('debit_account_id')} union all ${side('credit_account_id')}) t order by created_at desc, id desc limit $2`;
  const name = `ledger_list_transfers_v1${after ? '_after' : ''}${options.from ? '_from' : ''}${options.to ? '_to' : ''}`;
  if (!options.withBalances) return [{ name, text: page }, values];
  // The page and the balance after each of its lines in one statement, so one snapshot and one round trip.
  const text = `with page as (${page}),
     ${ACCOUNT_POSTED},
     oldest as (select created_at, id from page order by created_at, id limit 1),
     ${COUNTED_BACK}
     select page.*, counted.balance_after from page left join counted on counted.id = page.id
      order by page.created_at desc, page.id desc`;
  return [{ name: `${name}_balances`, text }, values];
}

/** Newest first by (created_at, id). */
export async function listTransfers(db: Db, accountId: string, options: ListTransfersOptions): Promise<TransferPage> {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit must be an integer in 1..1000');
  if (!isUuid(accountId)) return { data: [], nextCursor: null };
  const after = options.cursor ? decodeCursor(options.cursor) : null;

  const rows = await runPrepared<TransferRow & { cursor_at: string; balance_after?: string | null }>(db, ...pageStatement(accountId, limit, after, options));
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toTransfer),
    nextCursor: rows.length > limit && last ? encodeCursor(last.cursor_at, last.id) : null,
    ...(options.withBalances ? { balancesAfter: new Map(page.filter((row) => row.balance_after != null).map((row) => [row.id, BigInt(row.balance_after!)])) } : {}),
  };
}

// ---------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------

export async function expirePendingTransfers(db: Db, now: Date): Promise<{ expired: number }> {
  let expired = 0;
  for (;;) {
    const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
      `select p.id from ledger_transfers p
        where p.kind = 'pending' and p.timeout_at is not null and p.timeout_at <= ?
          and not exists (select 1 from ledger_pending_resolutions r where r.pending_id = p.id)
        order by p.timeout_at, p.id
        limit ?`,
      [now, EXPIRY_BATCH],
    );
    if (rows.length === 0) break;
    const results = await createTransfers(
      db,
      rows.map(({ id }) => ({ id: transferIdFrom(`expire_pending:${id}`), kind: 'expire_pending' as const, pendingId: id })),
    );
    const created = results.filter((r) => r.status === 'created').length;
    expired += created;
    // The database clock decides expiry; if it lags `now`, stop rather than spin.
    if (rows.length < EXPIRY_BATCH || created === 0) break;
  }
  return { expired };
}

