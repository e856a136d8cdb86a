/**
 * Statement cycles (docs/statements.md), as pure date arithmetic in UTC, shared by the
 * daily statement run (workflow code: no I/O, no clock) and its activities.
 *
 * A statement closes on a calendar day, its statement date, and covers every instant up
 * to the end of that day. A credit card's cycle closes on its statement day each month;
 * in a month too short for it (a day 29, 30 or 31 in February, a 31 in April) it closes
 * on the month's last day instead. The cycle opens the day after the previous cycle
 * closed. Every other account is cut by calendar month: its statement date is the
 * month's last day. So every account has exactly one statement date in each calendar
 * month, and (account, month of the statement date) names a statement once.
 */

/** A UTC calendar day, `YYYY-MM-DD`. */
export type CalendarDay = string;

/** A statement's half-open period of instants, ISO 8601: [from, to). */
export interface CyclePeriod {
  from: string;
  to: string;
}

export const LAST_STATEMENT_DAY = 31;
/** A card opened without a statement day closes its cycle on the 1st. */
export const DEFAULT_STATEMENT_DAY = 1;

function parts(day: CalendarDay): { year: number; monthIndex: number; date: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new Error(`${day} is not a YYYY-MM-DD day`);
  return { year: Number(match[1]), monthIndex: Number(match[2]) - 1, date: Number(match[3]) };
}

const dayOf = (instant: Date): CalendarDay => instant.toISOString().slice(0, 10);
const midnight = (year: number, monthIndex: number, date: number) => new Date(Date.UTC(year, monthIndex, date));

export function daysInMonth(year: number, monthIndex: number): number {
  return midnight(year, monthIndex + 1, 0).getUTCDate();
}

/** The day of the month (year, monthIndex) on which a statement day falls: itself, or the month's last day. */
export function closingDate(statementDay: number, year: number, monthIndex: number): number {
  return Math.min(statementDay, daysInMonth(year, monthIndex));
}

/** The UTC day before `at`: the day a run at `at` (just after midnight) closes. */
export function dayBefore(at: Date): CalendarDay {
  return dayOf(midnight(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - 1));
}

/** Whether `day` is the last of its month, when calendar-month statements are cut. */
export function isMonthEnd(day: CalendarDay): boolean {
  const { year, monthIndex, date } = parts(day);
  return date === daysInMonth(year, monthIndex);
}

/** `YYYY-MM` of the statement date: with the account, it names the statement once. */
export function statementMonth(day: CalendarDay): string {
  return day.slice(0, 7);
}

/** The statement days (1..31) whose cycle closes on `day`: the day itself, and on a short month's last day the days it stands in for. */
export function statementDaysClosingOn(day: CalendarDay): number[] {
  const { year, monthIndex, date } = parts(day);
  const last = daysInMonth(year, monthIndex);
  if (date < last) return [date];
  return Array.from({ length: LAST_STATEMENT_DAY - last + 1 }, (_, i) => last + i);
}

/** The cycle of a card with `statementDay` that closes on `day`: from the day after the previous month's close to the end of `day`. */
export function cardCycle(statementDay: number, day: CalendarDay): CyclePeriod {
  const { year, monthIndex, date } = parts(day);
  if (closingDate(statementDay, year, monthIndex) !== date) throw new Error(`a card with statement day ${statementDay} does not close on ${day}`);
  const previous = midnight(year, monthIndex - 1, 1);
  const previousClose = closingDate(statementDay, previous.getUTCFullYear(), previous.getUTCMonth());
  return { from: midnight(previous.getUTCFullYear(), previous.getUTCMonth(), previousClose + 1).toISOString(), to: midnight(year, monthIndex, date + 1).toISOString() };
}

/** The calendar month that closes on `day` (its last day). */
export function calendarMonthCycle(day: CalendarDay): CyclePeriod {
  const { year, monthIndex } = parts(day);
  if (!isMonthEnd(day)) throw new Error(`${day} is not the last day of its month`);
  return { from: midnight(year, monthIndex, 1).toISOString(), to: midnight(year, monthIndex + 1, 1).toISOString() };
}

/** The last calendar day a period covers: the day of the instant before its exclusive end. */
export function lastDayOf(periodTo: Date): CalendarDay {
  return dayOf(new Date(periodTo.getTime() - 1));
}
