import type { Knex } from 'knex';
import type { Db } from '../db/knex';

/**
 * Segments: `{ filters: [{ path, op, value }] }` over contact attributes, all filters
 * ANDed, compiled to one SQL condition. Equality and membership become JSONB
 * containment (`@>`), which the GIN index `contacts_attributes_idx` answers; ranges and
 * existence become constant SQL/JSON path predicates (`@?`), cheap per row; each is a
 * bound parameter, so no input is ever spliced into SQL text (docs/campaigns.md,
 * "Segments at a million contacts").
 */

export const SEGMENT_OPS = ['eq', 'neq', 'in', 'gt', 'lt', 'exists', 'contains'] as const;
export type SegmentOp = (typeof SEGMENT_OPS)[number];
export type Scalar = string | number | boolean;

export interface SegmentFilter {
  /** Dotted path into the attributes, e.g. `city` or `profile.tier`. */
  path: string;
  op: SegmentOp;
  value?: Scalar | Scalar[];
}

export const PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,4}$/;

/** A filter that cannot be compiled, with the field of the request it came from. */
export class SegmentError extends Error {
  constructor(
    readonly field: string,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** `{a: {b: value}}` for the path `a.b`: the document a containment test looks for. */
function nest(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/**
 * A scalar as a jsonpath literal. JSON's string escapes are jsonpath's, and a number from
 * JSON is finite, so the literal is always well-formed; it is bound as a parameter, never
 * spliced into SQL.
 */
function jsonLiteral(value: string | number): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new SegmentError('value', 'invalid_value', 'not a finite number');
  return JSON.stringify(value);
}

const textPath = (path: string) => `{${path.split('.').join(',')}}`;
const jsonPath = (path: string) => `$${path.split('.').map((key) => `."${key}"`).join('')}`;

function checkValue(filter: SegmentFilter, index: number): void {
  const field = `filters[${index}].value`;
  const isScalar = (v: unknown) => ['string', 'number', 'boolean'].includes(typeof v);
  if (filter.op === 'exists') return;
  if (filter.op === 'in') {
    if (!Array.isArray(filter.value) || filter.value.length === 0 || !filter.value.every(isScalar)) {
      throw new SegmentError(field, 'invalid_value', '`in` takes a non-empty array of strings, numbers or booleans');
    }
    return;
  }
  if (!isScalar(filter.value)) throw new SegmentError(field, 'invalid_value', `\`${filter.op}\` takes one string, number or boolean`);
  if ((filter.op === 'gt' || filter.op === 'lt') && typeof filter.value === 'boolean') {
    throw new SegmentError(field, 'invalid_value', `\`${filter.op}\` compares numbers or strings`);
  }
}

/** Checks every filter; throws a SegmentError naming the first bad field. */
export function validateFilters(filters: SegmentFilter[]): void {
  filters.forEach((filter, index) => {
    if (!PATH_PATTERN.test(filter.path)) throw new SegmentError(`filters[${index}].path`, 'invalid_path', 'a path is dotted keys of letters, digits and _ (at most 5 levels)');
    if (!(SEGMENT_OPS as readonly string[]).includes(filter.op)) {
      throw new SegmentError(`filters[${index}].op`, 'unknown_operator', `unknown operator; one of ${SEGMENT_OPS.join(', ')}`);
    }
    checkValue(filter, index);
  });
}

/** Adds the segment's condition over `<alias>.attributes` to a knex query. */
export function applySegment<T extends Knex.QueryBuilder>(query: T, filters: SegmentFilter[], alias = 'contacts'): T {
  validateFilters(filters);
  const column = `${alias}.attributes`;
  for (const { path, op, value } of filters) {
    switch (op) {
      case 'eq':
        query.whereRaw(`${column} @> ?::jsonb`, [JSON.stringify(nest(path, value))]);
        break;
      case 'neq':
        query.whereRaw(`not (${column} @> ?::jsonb)`, [JSON.stringify(nest(path, value))]);
        break;
      case 'in': {
        const options = (value as Scalar[]).map((v) => JSON.stringify(nest(path, v)));
        query.whereRaw(`(${options.map(() => `${column} @> ?::jsonb`).join(' or ')})`, options);
        break;
      }
      case 'gt':
      case 'lt':
        // A constant jsonpath (the value written as a JSON literal) rather than jsonb_path_exists
        // with a variables object: the object was built again for every row, about 40 % of the scan.
        query.whereRaw(`${column} @\\? ?::jsonpath`, [`${jsonPath(path)} ? (@ ${op === 'gt' ? '>' : '<'} ${jsonLiteral(value as string | number)})`]);
        break;
      case 'exists':
        query.whereRaw(`${column} @\\? ?::jsonpath`, [jsonPath(path)]);
        break;
      case 'contains':
        // An array holding the value, or a string holding it as a substring.
        query.whereRaw(`(${column} @> ?::jsonb or (jsonb_typeof(${column} #> ?::text[]) = 'string' and strpos(${column} #>> ?::text[], ?) > 0))`, [
          JSON.stringify(nest(path, [value])),
          textPath(path),
          textPath(path),
          String(value),
        ]);
        break;
    }
  }
  return query;
}

/**
 * A segment's preview: how many contacts it matches and the first `sample` of them, as
 * two statements at once (each may use parallel workers).
 */
export async function previewSegment<T>(db: Db, filters: SegmentFilter[], sample: number): Promise<{ count: number; sample: T[] }> {
  const [count, rows] = await Promise.all([
    applySegment(db('contacts'), filters).count<Array<{ count: string }>>('* as count'),
    applySegment(db('contacts').select('*'), filters).limit(sample),
  ]);
  return { count: Number(count[0]?.count ?? 0), sample: rows as T[] };
}
