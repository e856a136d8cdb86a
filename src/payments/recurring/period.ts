/**
 * Calendar arithmetic of recurring payments (docs/payments.md, "Recurring payments"):
 * which period a scheduled time falls in, in the customer's timezone, and which instant
 * a local wall-clock time is. Workflow-safe: no I/O and no clock, only `Intl` (which
 * the workflow sandbox provides) and `Date` built from explicit fields.
 */

export const FREQUENCIES = ['weekly', 'monthly', 'quarterly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** A calendar date without a time or zone; `month` is 1–12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** A wall-clock time in some timezone; `hour` is 0–23. */
export interface LocalDateTime extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2027-03-31`. */
export function formatLocalDate(date: LocalDate): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** A `YYYY-MM-DD` string that names a real calendar day, or undefined. */
export function parseLocalDate(text: string): LocalDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

export function compareLocalDates(a: LocalDate, b: LocalDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** 0 = Sunday … 6 = Saturday, as `Date#getUTCDay` counts. */
export function dayOfWeek(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

// One formatter per timezone: building one is the expensive part of Intl.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The IANA timezone in its canonical spelling (`america/new_york` → `America/New_York`),
 * or undefined when neither Intl nor a Temporal server would know it. Offsets such as
 * `+05:00` are refused: a customer lives in a zone, whose offset changes with DST.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The wall-clock time at `instant` in `timeZone`. */
export function localDateTimeOf(instant: Date, timeZone: string): LocalDateTime {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? NaN,
    month: fields.month ?? NaN,
    day: fields.day ?? NaN,
    hour: fields.hour ?? NaN,
    minute: fields.minute ?? NaN,
    second: fields.second ?? NaN,
  };
}

/** How far `timeZone` is ahead of UTC at `instant`, in milliseconds. */
function offsetMsAt(instant: number, timeZone: string): number {
  const local = localDateTimeOf(new Date(instant), timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant at which the clocks of `timeZone` show `local`. A wall time shown twice
 * (clocks going back) is its first occurrence; one skipped (clocks going forward) is
 * moved forward by the gap, as JavaScript's `Temporal` does by default. A customer's
 * "09:00" is neither in practice, but a timezone may change its rules.
 */
export function instantOf(local: LocalDate & Partial<LocalDateTime>, timeZone: string): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour ?? 0, local.minute ?? 0, local.second ?? 0);
  // No timezone changes its offset twice within two days, so the offsets a day either
  // side are the only candidates.
  const before = offsetMsAt(wall - 86_400_000, timeZone);
  const after = offsetMsAt(wall + 86_400_000, timeZone);
  const shows = (instant: number) => offsetMsAt(instant, timeZone) === wall - instant;
  const candidates = [wall - before, wall - after].filter(shows).sort((a, b) => a - b);
  return new Date(candidates[0] ?? wall - before);
}

/** The customer's calendar date at `instant`. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  const { year, month, day } = localDateTimeOf(instant, timeZone);
  return { year, month, day };
}

/** ISO 8601 week: the week-year and week (1–53) of a date; weeks start on Monday. */
export function isoWeekOf(date: LocalDate): { year: number; week: number } {
  const weekday = dayOfWeek(date) || 7;
  // The Thursday of the same week decides the week-year.
  const thursday = new Date(Date.UTC(date.year, date.month - 1, date.day + 4 - weekday));
  const year = thursday.getUTCFullYear();
  const dayOfYear = Math.round((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  return { year, week: Math.floor((dayOfYear - 1) / 7) + 1 };
}

/** The period a local date belongs to: `2027-03` monthly, `2027-W09` weekly, `2027-Q1` quarterly. */
export function periodOfDate(frequency: Frequency, date: LocalDate): string {
  switch (frequency) {
    case 'monthly':
      return `${pad(date.year, 4)}-${pad(date.month)}`;
    case 'weekly': {
      const { year, week } = isoWeekOf(date);
      return `${pad(year, 4)}-W${pad(week)}`;
    }
    case 'quarterly':
      return `${pad(date.year, 4)}-Q${Math.floor((date.month - 1) / 3) + 1}`;
  }
}

/** The period of a run scheduled at `scheduledAt`, in the customer's timezone. */
export function periodOf(frequency: Frequency, scheduledAt: Date, timeZone: string): string {
  return periodOfDate(frequency, localDateOf(scheduledAt, timeZone));
}
