import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import { getCountries } from 'libphonenumber-js';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CARD_STATUSES } from '../../workflows/cards/contract';

/**
 * Partner layouts: how to read one courier's files, kept as YAML data (one file per
 * layout in layouts/, the file name is the layout id an upload names with `?partner=`).
 * A layout names its delimiter, encoding, whether a header row comes first, the header
 * spellings (or, without a header, the 1-based positions) of each column, its date
 * formats and zone, the country a national phone number belongs to, and either one
 * status for every row or the partner's status words mapped to finflow's.
 */

const COLUMN_NAMES = ['eventId', 'cardId', 'phone', 'timestamp', 'status', 'comment'] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

/** `iso` is ISO 8601 (the layout's zone when the text has none); `epoch-seconds` is Unix time; anything else is a Luxon format. */
const DateFormat = z.string().min(1);

const columnRef = z.union([z.array(z.string().min(1)).min(1), z.number().int().positive()]);

export const LayoutSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    description: z.string().min(1),
    delimiter: z.string().length(1),
    encoding: z.enum(['utf8', 'latin1']),
    header: z.boolean(),
    columns: z
      .object({ eventId: columnRef.optional(), cardId: columnRef, phone: columnRef, timestamp: columnRef, status: columnRef.optional(), comment: columnRef.optional() })
      .strict(),
    /** The status of every row, for files that carry one kind of event. */
    status: z.enum(CARD_STATUSES).optional(),
    /** The partner's words (matched without regard to case or spacing) mapped to finflow's statuses. */
    statuses: z.record(z.string().min(1), z.enum(CARD_STATUSES)).optional(),
    dates: z
      .object({
        formats: z.array(DateFormat).min(1),
        timezone: z.string().refine((zone) => IANAZone.isValidZone(zone), 'not an IANA time zone'),
      })
      .strict(),
    phone: z.object({ country: z.string().refine((c) => (getCountries() as string[]).includes(c), 'not a country libphonenumber knows') }).strict(),
  })
  .strict()
  .refine((l) => (l.status === undefined) !== (l.columns.status === undefined), 'a layout has either a fixed status or a status column, not both')
  .refine((l) => l.columns.status === undefined || (l.statuses !== undefined && Object.keys(l.statuses).length > 0), 'a status column needs a statuses map')
  .refine((l) => Object.values(l.columns).every((ref) => (typeof ref === 'number') === !l.header), 'columns are header spellings with a header row, positions without');

export type Layout = z.infer<typeof LayoutSchema> & { phone: { country: CountryCode } };

export const LAYOUTS_DIR = join(__dirname, 'layouts');

/** Every layout of a folder by id; a broken file fails loudly with its name. */
export function loadLayouts(dir = LAYOUTS_DIR): Map<string, Layout> {
  const layouts = new Map<string, Layout>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const parsed = LayoutSchema.safeParse(parseYaml(readFileSync(join(dir, file), 'utf8')));
    if (!parsed.success) throw new Error(`card file layout ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (`${parsed.data.id}.yaml` !== file) throw new Error(`card file layout ${file}: its id is ${parsed.data.id}`);
    layouts.set(parsed.data.id, parsed.data as Layout);
  }
  return layouts;
}

let shipped: Map<string, Layout> | undefined;

/** The layouts shipped in layouts/, read once. */
export function shippedLayouts(): Map<string, Layout> {
  return (shipped ??= loadLayouts());
}

/** Where each column is in a record (0-based). */
export type ColumnIndex = Partial<Record<ColumnName, number>>;

const normalName = (name: string) => name.replace(/^\uFEFF/, '').trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The position of each column: from the header row when the layout has one (any listed
 * spelling, regardless of case and spacing), else from the layout's positions. Throws
 * with the missing columns' names when a required one is absent.
 */
export function columnIndex(layout: Layout, header: string[] | undefined): ColumnIndex {
  const index: ColumnIndex = {};
  const names = header?.map(normalName) ?? [];
  const missing: string[] = [];
  for (const column of COLUMN_NAMES) {
    const ref = layout.columns[column];
    if (ref === undefined) continue;
    const at = typeof ref === 'number' ? ref - 1 : names.findIndex((name) => ref.some((spelling) => normalName(spelling) === name));
    if (at >= 0) index[column] = at;
    else if (column !== 'eventId' && column !== 'comment') missing.push(typeof ref === 'number' ? `column ${ref}` : ref[0] as string);
  }
  if (missing.length > 0) throw new Error(`the header lacks ${missing.join(', ')}`);
  return index;
}
