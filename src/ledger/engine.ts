import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { toTransfer, type TransferRow } from './rows';
import type { TransferResult } from './types';

/**
 * Calls into the engine: one round trip per call. A single transfer goes to
 * ledger_apply_transfer (db/migrations/20261202_L01_typed_transfer.ts) as typed
 * arguments; a batch to ledger_create_transfers as one JSON document
 * (db/migrations/20261123_002_ledger.ts). Outside a caller's transaction each runs as a
 * named prepared statement on a pooled connection, which saves parsing and planning on
 * both sides on every call after a connection's first (the benchmark counts those
 * microseconds).
 */

const COLUMNS = `t.result, (t.transfer).id, (t.transfer).kind, (t.transfer).debit_account_id, (t.transfer).credit_account_id,
  (t.transfer).amount_minor, (t.transfer).currency, (t.transfer).code, (t.transfer).pending_id,
  (t.transfer).timeout_at, (t.transfer).metadata, (t.transfer).created_at`;

const ONE = {
  name: 'ledger_apply_transfer_v1',
  text: `select ${COLUMNS} from ledger_apply_transfer($1::uuid, $2::text, $3::uuid, $4::uuid, $5::numeric, $6::text, $7::text, $8::uuid, $9::timestamptz, $10::jsonb) t`,
};
/** ledger_apply_transfer's arguments, in order, from an engine input. */
const ARGUMENTS = ['id', 'kind', 'debit_account_id', 'credit_account_id', 'amount_minor', 'currency', 'code', 'pending_id', 'timeout_at'] as const;
const MANY = { name: 'ledger_create_transfers_v1', text: `select ${COLUMNS} from ledger_create_transfers($1::jsonb, $2) t` };

/** SQLSTATE 40001: a concurrent call won a race the engine could not absorb; retrying answers. */
const SERIALIZATION_FAILURE = '40001';
const ATTEMPTS = 3;

type EngineRow = { result: TransferResult['status'] } & { [K in keyof TransferRow]: TransferRow[K] | null };

interface PgConnection {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

function isTransaction(db: Db): db is Knex.Transaction {
  return (db as unknown as { isTransaction?: boolean }).isTransaction === true;
}

/** A statement the ledger runs often: prepared once per pooled connection under its name. */
export interface NamedStatement {
  name: string;
  /** SQL with $1, $2, … placeholders. */
  text: string;
}

/**
 * Runs a ledger statement as a named prepared statement on a pooled connection, so
 * PostgreSQL parses and plans it once per connection rather than on every call; inside a
 * caller's transaction, through knex on that transaction.
 */
export async function runPrepared<R>(db: Db, statement: NamedStatement, values: unknown[]): Promise<R[]> {
  if (isTransaction(db)) {
    // knex binds by position: each $n becomes a ? bound to its value, however often it appears.
    const bindings: Knex.RawBinding[] = [];
    const text = statement.text.replace(/\$(\d+)/g, (_, n: string) => {
      bindings.push(values[Number(n) - 1] as Knex.RawBinding);
      return '?';
    });
    const { rows } = await db.raw<{ rows: R[] }>(text, bindings);
    return rows;
  }
  const connection = (await db.client.acquireConnection()) as PgConnection;
  try {
    return (await connection.query<R>({ ...statement, values })).rows;
  } finally {
    await db.client.releaseConnection(connection);
  }
}

/**
 * Applies engine inputs (snake_case, amounts as decimal strings) and answers one result
 * per input. Inside a caller's transaction a 40001 propagates, since only the caller can
 * retry its transaction.
 */
export async function callEngine(db: Db, inputs: Array<Record<string, unknown>>, linked: boolean): Promise<EngineRow[]> {
  const [statement, values] = inputs.length === 1 ? [ONE, singleArguments(inputs[0]!)] : [MANY, [JSON.stringify(inputs), linked]];
  for (let attempt = 1; ; attempt++) {
    try {
      return await runPrepared<EngineRow>(db, statement, values);
    } catch (err) {
      const retry = (err as { code?: string }).code === SERIALIZATION_FAILURE && !isTransaction(db) && attempt < ATTEMPTS;
      if (!retry) throw err;
    }
  }
}

function singleArguments(input: Record<string, unknown>): unknown[] {
  return [...ARGUMENTS.map((name) => input[name] ?? null), input.metadata === undefined ? null : JSON.stringify(input.metadata)];
}

export function toResult(row: EngineRow, id: string): TransferResult {
  if (row.result === 'created' || row.result === 'exists') return { id, status: row.result, transfer: toTransfer(row as TransferRow) };
  return { id, status: row.result };
}
