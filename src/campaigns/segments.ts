import type { Knex } from 'knex';

/**
 * Segments: `{ filters: [{ path, op, value }] }` over contact attributes, all filters
 * ANDed, compiled to one SQL condition. Equality and membership become JSONB
 * containment (`@>`), which the GIN index `contacts_attributes_idx` answers; ranges and
 * existence become SQL/JSON path predicates with the value passed as a variable, so no
 * input is ever spliced into SQL text.
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
        query.whereRaw(`jsonb_path_exists(${column}, ?::jsonpath, jsonb_build_object('v', ?::jsonb))`, [
          `${jsonPath(path)} ? (@ ${op === 'gt' ? '>' : '<'} $v)`,
          JSON.stringify(value),
        ]);
        break;
      case 'exists':
        query.whereRaw(`jsonb_path_exists(${column}, ?::jsonpath)`, [jsonPath(path)]);
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
