/**
 * Patterns that state, in the OpenAPI document, what a zod transform implies. A field
 * that is trimmed before its `min(1)` check needs a character `String#trim` keeps:
 * this is the complement of exactly the characters trim removes (ECMAScript WhiteSpace
 * and LineTerminator), so the document and the check agree on every string.
 */
const TRIMMED = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
export const NOT_BLANK_PATTERN = `[^${TRIMMED}]`;
