import type { CalendarSpec, DayOfWeek, Month, ScheduleOptions, ScheduleOptionsStartWorkflowAction, ScheduleSpec } from '@temporalio/client';
import { TASK_QUEUES, scheduleIds, searchAttributes, workflowIds } from '../../temporal/names';
import type { RecurringPaymentRunWorkflow } from '../../workflows/payments/contract';
import { daysInMonth, instantOf, isLeapYear, type Frequency, type LocalDate } from './period';

/**
 * The Temporal Schedule of a recurring payment (docs/payments.md, "Recurring payments"):
 * calendar entries in the customer's timezone at a fixed local time, from the start
 * date on. Pure: the API creates the Schedule from what this builds, tests inspect it.
 */

/** Every run fires at this wall-clock time in the customer's timezone: after DST changes, before lunch. */
export const LOCAL_RUN_TIME = { hour: 9, minute: 0 } as const;

/** Schedules missed for longer than this (an outage) are not run late; backfill them instead. */
export const CATCHUP_WINDOW = '1 day';

/** Leap Februaries are listed this many years ahead; past that, a duplicate fire is absorbed by the period. */
const LEAP_YEARS_AHEAD = 200;

const MONTH_NAMES: readonly Month[] = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const DAY_NAMES: readonly DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

export interface RecurringPlan {
  frequency: Frequency;
  startDate: LocalDate;
  /** Canonical IANA name (see canonicalTimeZone). */
  timezone: string;
}

const monthName = (month: number) => MONTH_NAMES[month - 1] as Month;
const atRunTime = { hour: LOCAL_RUN_TIME.hour, minute: LOCAL_RUN_TIME.minute, second: 0 };

/** The months (1–12) a plan pays in: all twelve, or the start month and every third after it. */
export function monthsOf(plan: Pick<RecurringPlan, 'frequency' | 'startDate'>): number[] {
  if (plan.frequency === 'monthly') return MONTH_NAMES.map((_, i) => i + 1);
  return [0, 3, 6, 9].map((offset) => ((plan.startDate.month - 1 + offset) % 12) + 1).sort((a, b) => a - b);
}

/** Leap years from `fromYear` on, as step-4 ranges (a century not divisible by 400 breaks a run). */
export function leapYearRanges(fromYear: number, toYear: number): Array<{ start: number; end: number; step: number }> {
  const ranges: Array<{ start: number; end: number; step: number }> = [];
  for (let year = fromYear; year <= toYear; year++) {
    if (!isLeapYear(year)) continue;
    const last = ranges[ranges.length - 1];
    if (last && year - last.end === 4) last.end = year;
    else ranges.push({ start: year, end: year, step: 4 });
  }
  return ranges;
}

/**
 * Calendar entries for day `day` of each month in `months`. A month too short for the
 * day pays on its last day instead: the 31st becomes the 30th in April, June,
 * September and November; days 29–31 become February's last day, the 29th in leap
 * years (an entry that only leap years have) and the 28th otherwise (an entry whose
 * leap-year occurrences are skipped).
 */
export function monthDayCalendars(months: readonly number[], day: number, fromYear: number): { calendars: CalendarSpec[]; skip: CalendarSpec[] } {
  const monthsByDay = new Map<number, number[]>();
  const lateFebruary = day > 28 && months.includes(2);
  for (const month of months) {
    if (month === 2 && lateFebruary) continue;
    // A common year's length: February only reaches here for days up to 28.
    const effective = Math.min(day, daysInMonth(2001, month));
    monthsByDay.set(effective, [...(monthsByDay.get(effective) ?? []), month]);
  }
  const calendars: CalendarSpec[] = [...monthsByDay].map(([dayOfMonth, inMonths]) => ({
    ...atRunTime,
    dayOfMonth,
    month: inMonths.map(monthName),
    comment: dayOfMonth === day ? `day ${day}` : `day ${day} falls on the ${dayOfMonth}th in shorter months`,
  }));
  const skip: CalendarSpec[] = [];
  if (lateFebruary) {
    calendars.push({ ...atRunTime, month: 'FEBRUARY', dayOfMonth: 29, comment: `day ${day}: February 29 in leap years` });
    calendars.push({ ...atRunTime, month: 'FEBRUARY', dayOfMonth: 28, comment: `day ${day}: February 28 in common years` });
    skip.push({
      ...atRunTime,
      month: 'FEBRUARY',
      dayOfMonth: 28,
      year: leapYearRanges(fromYear, fromYear + LEAP_YEARS_AHEAD),
      comment: 'leap years pay on February 29',
    });
  }
  return { calendars, skip };
}

/** When a plan's runs fire: calendars in the customer's timezone, from local midnight of the start date. */
export function scheduleSpecFor(plan: RecurringPlan): ScheduleSpec {
  const { frequency, startDate, timezone } = plan;
  const startAt = instantOf(startDate, timezone);
  if (frequency === 'weekly') {
    const dayOfWeek = DAY_NAMES[new Date(Date.UTC(startDate.year, startDate.month - 1, startDate.day)).getUTCDay()] as DayOfWeek;
    return { calendars: [{ ...atRunTime, dayOfWeek, comment: `every ${dayOfWeek.toLowerCase()}` }], startAt, timezone };
  }
  const { calendars, skip } = monthDayCalendars(monthsOf(plan), startDate.day, startDate.year);
  return { calendars, ...(skip.length > 0 ? { skip } : {}), startAt, timezone };
}

export type RecurringRunAction = ScheduleOptionsStartWorkflowAction<RecurringPaymentRunWorkflow>;

/**
 * The whole Schedule: its spec, and the action of starting `recurringPaymentRun` on
 * the core queue. Runs may overlap (ALLOW_ALL): each pays its own period, and one in
 * dunning must not hold the next period back; a period fired twice is paid once by
 * the payment's workflow id.
 */
export function recurringScheduleOptions(input: RecurringPlan & { id: string; userId: string; triggerImmediately?: boolean }): ScheduleOptions<RecurringRunAction> {
  return {
    scheduleId: scheduleIds.recurringPayment(input.id),
    spec: scheduleSpecFor(input),
    action: {
      type: 'startWorkflow',
      workflowType: 'recurringPaymentRun',
      workflowId: workflowIds.recurringPaymentRun(input.id),
      taskQueue: TASK_QUEUES.core,
      args: [{ recurringPaymentId: input.id }],
      typedSearchAttributes: [{ key: searchAttributes.CustomerId, value: input.userId }],
    },
    policies: { overlap: 'ALLOW_ALL', catchupWindow: CATCHUP_WINDOW },
    ...(input.triggerImmediately ? { state: { triggerImmediately: true } } : {}),
  };
}
