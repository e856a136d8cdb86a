import { z } from 'zod';
import type { Knex } from 'knex';
import { problems } from './errors';

/**
 * Cursor pagination, newest first: `?limit=&cursor=` in, `{ data, nextCursor }` out.
 * The cursor is an opaque base64url of the last row's (created_at, id), so pages stay
 * stable while new rows arrive.
 */

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export type PageQuery = z.infer<typeof PageQuery>;

interface CursorPosition {
  createdAt: string;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** What encodeCursor writes: `Date#toISOString()` and a UUID. Anything else would reach SQL as a bad literal (a 500). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(position) || position.length !== 2) throw new Error('shape');
    const [createdAt, id] = position as unknown[];
    if (typeof createdAt !== 'string' || !ISO_INSTANT.test(createdAt) || Number.isNaN(Date.parse(createdAt))) throw new Error('createdAt');
    if (typeof id !== 'string' || !UUID.test(id)) throw new Error('id');
    return { createdAt, id };
  } catch {
    throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
  }
}

/** Applies one page of newest-first ordering to a query over a table with created_at and id. */
export async function paginate<Row extends { id: string; created_at: Date }>(
  query: Knex.QueryBuilder,
  page: PageQuery,
  table: string,
): Promise<{ rows: Row[]; nextCursor: string | null }> {
  if (page.cursor) {
    const { createdAt, id } = decodeCursor(page.cursor);
    // PostgreSQL keeps microseconds, a JS Date (and so the cursor) only milliseconds:
    // comparing against the cursor's instant would skip rows sharing the last row's
    // millisecond. The last row's own created_at is exact; should that row be gone,
    // the end of the cursor's millisecond repeats a row rather than skipping one.
    query.whereRaw(
      `(??, ??) < (coalesce((select ?? from ?? where ?? = ?::uuid), ?::timestamptz + interval '999 microseconds'), ?::uuid)`,
      [`${table}.created_at`, `${table}.id`, `${table}.created_at`, table, `${table}.id`, id, createdAt, id],
    );
  }
  const rows = (await query.orderBy([{ column: `${table}.created_at`, order: 'desc' }, { column: `${table}.id`, order: 'desc' }]).limit(page.limit + 1)) as Row[];
  const hasMore = rows.length > page.limit;
  const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { rows: pageRows, nextCursor: hasMore && last ? encodeCursor({ createdAt: last.created_at.toISOString(), id: last.id }) : null };
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}
