import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { DateTime } from 'luxon';
import type { CardStatus } from '../../workflows/cards/contract';
import type { ColumnIndex, Layout } from './layouts';
import { containsPan } from './pan';

/**
 * One record of a partner file, read with its layout into a card event or refused with
 * the reason. Phones become E.164, times an instant; the card-number check runs first,
 * over every field, so a row holding a PAN is refused before anything else reads it.
 */

export type RejectReason = 'card_number' | 'missing_card_id' | 'bad_card_id' | 'bad_phone' | 'bad_date' | 'unknown_status';

export const REJECT_REASONS: Record<RejectReason, string> = {
  card_number: 'a value looks like a full card number',
  missing_card_id: 'the card id is missing',
  bad_card_id: 'the card id is not a card id (letters, digits, "-", "_" or ".", at most 64)',
  bad_phone: 'the phone number is not a valid number',
  bad_date: 'the timestamp matches none of the layout\'s date formats',
  unknown_status: 'the status word is not one the layout maps',
};

export interface CardEvent {
  cardId: string;
  phoneE164: string;
  status: CardStatus;
  /** The event's instant, ISO 8601 in UTC: the form the batch's COPY text takes. */
  eventAt: string;
  comment: string | null;
}

export type RowOutcome = { ok: true; event: CardEvent } | { ok: false; reason: RejectReason };

const CARD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Event times outside these years are typos, not deliveries. */
const EARLIEST_YEAR = 2000;
const LATEST_YEAR = 2100;

const statusWord = (word: string) => word.trim().replace(/\s+/g, ' ').toUpperCase();

/** The layout's status words, keyed as statusWord() reads a cell. */
export function statusWords(layout: Layout): Map<string, CardStatus> {
  return new Map(Object.entries(layout.statuses ?? {}).map(([word, status]) => [statusWord(word), status]));
}

/** Luxon's compiled parser per format: building one is most of the cost of a parse. */
const formatParsers = new Map<string, ReturnType<typeof DateTime.buildFormatParser>>();

function formatParser(format: string) {
  let parser = formatParsers.get(format);
  if (!parser) formatParsers.set(format, (parser = DateTime.buildFormatParser(format, { locale: 'en-US' })));
  return parser;
}

export function parseEventTime(text: string, layout: Layout): Date | undefined {
  const value = text.trim();
  for (const format of layout.dates.formats) {
    let parsed: DateTime;
    if (format === 'iso') parsed = DateTime.fromISO(value, { zone: layout.dates.timezone, setZone: true });
    else if (format === 'epoch-seconds') parsed = /^\d{9,11}$/.test(value) ? DateTime.fromSeconds(Number(value), { zone: 'utc' }) : DateTime.invalid('not epoch seconds');
    else parsed = DateTime.fromFormatParser(value, formatParser(format), { zone: layout.dates.timezone, locale: 'en-US' });
    if (parsed.isValid && parsed.year >= EARLIEST_YEAR && parsed.year < LATEST_YEAR) return parsed.toJSDate();
  }
  return undefined;
}

export function normalisePhone(text: string, layout: Layout): string | undefined {
  const parsed = parsePhoneNumberFromString(text.trim(), layout.phone.country);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** How many distinct timestamps a batch remembers before it starts afresh. */
const TIMES_REMEMBERED = 10_000;

/**
 * Reads one record. `times` remembers the instants of timestamps already read (a
 * courier's file repeats the same minute over many rows, and parsing a zoned time is the
 * costliest step); it is cleared when it grows past TIMES_REMEMBERED, so it stays small.
 */
export function readRow(record: string[], columns: ColumnIndex, layout: Layout, words: Map<string, CardStatus>, times = new Map<string, string | undefined>()): RowOutcome {
  if (record.some(containsPan)) return { ok: false, reason: 'card_number' };
  const cell = (column: keyof ColumnIndex) => {
    const at = columns[column];
    return at === undefined ? '' : (record[at] ?? '').trim();
  };
  const cardId = cell('cardId');
  if (cardId === '') return { ok: false, reason: 'missing_card_id' };
  if (!CARD_ID.test(cardId)) return { ok: false, reason: 'bad_card_id' };
  const phoneE164 = normalisePhone(cell('phone'), layout);
  if (!phoneE164) return { ok: false, reason: 'bad_phone' };
  const timestamp = cell('timestamp');
  let eventAt = times.get(timestamp);
  if (eventAt === undefined && !times.has(timestamp)) {
    if (times.size >= TIMES_REMEMBERED) times.clear();
    eventAt = parseEventTime(timestamp, layout)?.toISOString();
    times.set(timestamp, eventAt);
  }
  if (!eventAt) return { ok: false, reason: 'bad_date' };
  const status = layout.status ?? words.get(statusWord(cell('status')));
  if (!status) return { ok: false, reason: 'unknown_status' };
  const comment = cell('comment');
  return { ok: true, event: { cardId, phoneE164, status, eventAt, comment: comment === '' ? null : comment } };
}
