import type { Db } from '../../src/db/knex';
import type { Issued } from './operations';

/** How the checks read PostgreSQL, and the rule every request's row is held to. */

export const rowsOf = async <T>(db: Db, sql: string, bindings: readonly unknown[] = []): Promise<T[]> => (await db.raw(sql, bindings as never)).rows as T[];

/** A row as PostgreSQL returns it: bigints and dates as strings. */
export type Row = Record<string, string | null>;

export const byKind = (issued: Issued[], kind: string) => issued.filter((i) => i.kind === kind && i.workflowId);

/** Per requested workflow: the client saw success ⇒ one row; saw a 4xx ⇒ no row or a `failed` one; no row may still be processing. */
export async function requestRows(db: Db, table: string, issued: Issued[], label: string): Promise<{ problems: string[]; rows: Map<string, Row> }> {
  const problems: string[] = [];
  const ids = issued.map((i) => i.workflowId as string);
  const found = ids.length === 0 ? [] : await db(table).whereIn('workflow_id', ids);
  const rows = new Map(found.map((r: Row) => [String(r.workflow_id), r]));
  for (const i of issued) {
    const row = rows.get(i.workflowId as string);
    if (i.outcome === 'succeeded' && !row) problems.push(`${label} ${i.workflowId}: the client saw ${i.status} but there is no ${table} row`);
    // A refusal may be recorded with its reason (a `failed` row); it must not have taken effect.
    if (i.outcome === 'failed' && row && row.status !== 'failed') problems.push(`${label} ${i.workflowId}: the client saw ${i.status} but it is ${row.status}`);
    if (row?.status === 'processing') problems.push(`${label} ${i.workflowId}: still processing after the system settled`);
  }
  return { problems, rows };
}
