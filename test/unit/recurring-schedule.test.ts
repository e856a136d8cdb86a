import assert from 'node:assert/strict';
import type { CalendarSpec } from '@temporalio/client';
import { daysInMonth, formatLocalDate, parseLocalDate, type LocalDate } from '../../src/payments/recurring/period';
import {
  LOCAL_RUN_TIME,
  leapYearRanges,
  recurringScheduleOptions,
  scheduleSpecFor,
  type RecurringPlan,
} from '../../src/payments/recurring/schedule';
import { TASK_QUEUES, searchAttributes } from '../../src/temporal/names';

/**
 * The Schedule spec of a recurring payment, checked by matching its calendar entries
 * against every local day, as the Temporal server does (tests in
 * test/workflows/recurring-schedule.test.ts check the same specs on a real server).
 */

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];
const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

type Field = CalendarSpec['year'];

/** Whether `value` is in a CalendarSpec field (a value, a range, a list of them, `*`), names mapped through `names`. */
function inField(field: Field | CalendarSpec['month'] | CalendarSpec['dayOfWeek'], value: number, fallback: 'any' | number, names: string[] = []): boolean {
  if (field === undefined) return fallback === 'any' || fallback === value;
  if (field === '*') return true;
  const toNumber = (v: unknown) => (typeof v === 'string' ? names.indexOf(v) + (names === MONTHS ? 1 : 0) : (v as number));
  const items = Array.isArray(field) ? field : [field];
  return items.some((item) => {
    if (typeof item === 'object' && item !== null) {
      const range = item as { start: unknown; end?: unknown; step?: number };
      const start = toNumber(range.start);
      const end = range.end === undefined ? start : toNumber(range.end);
      const step = range.step ?? 1;
      return value >= start && value <= end && (value - start) % step === 0;
    }
    return toNumber(item) === value;
  });
}

function matchesDay(calendar: CalendarSpec, date: LocalDate): boolean {
  const dow = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return (
    inField(calendar.year, date.year, 'any') &&
    inField(calendar.month, date.month, 'any', MONTHS) &&
    inField(calendar.dayOfMonth, date.day, 'any') &&
    inField(calendar.dayOfWeek, dow, 'any', DAYS) &&
    inField(calendar.hour, LOCAL_RUN_TIME.hour, 0) &&
    inField(calendar.minute, LOCAL_RUN_TIME.minute, 0) &&
    inField(calendar.second, 0, 0)
  );
}

/** The first `count` local dates on or after the start date on which the plan's Schedule fires at the run time. */
function fireDates(plan: RecurringPlan, count: number): string[] {
  const spec = scheduleSpecFor(plan);
  const dates: string[] = [];
  let { year, month, day } = plan.startDate;
  while (dates.length < count) {
    const date = { year, month, day };
    const fires = (spec.calendars ?? []).filter((c) => matchesDay(c, date)).length;
    const skipped = (spec.skip ?? []).some((c) => matchesDay(c, date));
    assert.ok(fires <= 1, `${formatLocalDate(date)} matches ${fires} calendars`);
    if (fires === 1 && !skipped) dates.push(formatLocalDate(date));
    day += 1;
    if (day > daysInMonth(year, month)) [day, month] = [1, month + 1];
    if (month > 12) [month, year] = [1, year + 1];
  }
  return dates;
}

const plan = (frequency: RecurringPlan['frequency'], startDate: string, timezone = 'America/New_York'): RecurringPlan => ({
  frequency,
  startDate: parseLocalDate(startDate) as LocalDate,
  timezone,
});

describe('recurring payment schedule spec', () => {
  describe('monthly', () => {
    it('pays on the 31st, or the last day of shorter months, for 14 months from 2027-01-31', () => {
      assert.deepEqual(fireDates(plan('monthly', '2027-01-31'), 14), [
        '2027-01-31',
        '2027-02-28',
        '2027-03-31',
        '2027-04-30',
        '2027-05-31',
        '2027-06-30',
        '2027-07-31',
        '2027-08-31',
        '2027-09-30',
        '2027-10-31',
        '2027-11-30',
        '2027-12-31',
        '2028-01-31',
        '2028-02-29',
      ]);
    });

    it('pays a 30th on February 28, or 29 in leap years, and on the 30th elsewhere', () => {
      assert.deepEqual(fireDates(plan('monthly', '2027-11-30'), 5), ['2027-11-30', '2027-12-30', '2028-01-30', '2028-02-29', '2028-03-30']);
      assert.deepEqual(fireDates(plan('monthly', '2028-12-30'), 4), ['2028-12-30', '2029-01-30', '2029-02-28', '2029-03-30']);
    });

    it('pays a 29th on February 28 in common years', () => {
      assert.deepEqual(fireDates(plan('monthly', '2027-01-29'), 3), ['2027-01-29', '2027-02-28', '2027-03-29']);
      assert.deepEqual(fireDates(plan('monthly', '2028-01-29'), 3), ['2028-01-29', '2028-02-29', '2028-03-29']);
    });

    it('skips February 28 in no year that is not a leap year (2100 is not)', () => {
      assert.deepEqual(fireDates(plan('monthly', '2099-12-31'), 4), ['2099-12-31', '2100-01-31', '2100-02-28', '2100-03-31']);
    });

    it('uses one plain calendar entry for days up to the 28th', () => {
      const spec = scheduleSpecFor(plan('monthly', '2027-03-15'));
      assert.equal(spec.calendars?.length, 1);
      assert.equal(spec.skip, undefined);
      assert.deepEqual(fireDates(plan('monthly', '2027-03-15'), 3), ['2027-03-15', '2027-04-15', '2027-05-15']);
    });
  });

  describe('quarterly', () => {
    it('pays every third month from the start month, moving the 31st to the month end', () => {
      assert.deepEqual(fireDates(plan('quarterly', '2027-08-31'), 6), ['2027-08-31', '2027-11-30', '2028-02-29', '2028-05-31', '2028-08-31', '2028-11-30']);
    });

    it('wraps round the year from a late start month', () => {
      assert.deepEqual(fireDates(plan('quarterly', '2027-12-05'), 4), ['2027-12-05', '2028-03-05', '2028-06-05', '2028-09-05']);
    });
  });

  describe('weekly', () => {
    it('pays on the start date’s weekday', () => {
      // 2027-03-03 is a Wednesday.
      assert.deepEqual(fireDates(plan('weekly', '2027-03-03'), 3), ['2027-03-03', '2027-03-10', '2027-03-17']);
    });
  });

  describe('the rest of the spec', () => {
    it('runs in the customer timezone, from local midnight of the start date, at 09:00', () => {
      const spec = scheduleSpecFor(plan('monthly', '2027-01-31', 'Asia/Tokyo'));
      assert.equal(spec.timezone, 'Asia/Tokyo');
      assert.equal(spec.startAt?.toISOString(), '2027-01-30T15:00:00.000Z');
      for (const calendar of spec.calendars ?? []) assert.deepEqual([calendar.hour, calendar.minute, calendar.second], [9, 0, 0]);
    });

    it('lists leap years as step-4 ranges broken at centuries that are not leap years', () => {
      assert.deepEqual(leapYearRanges(2027, 2210), [
        { start: 2028, end: 2096, step: 4 },
        { start: 2104, end: 2196, step: 4 },
        { start: 2204, end: 2208, step: 4 },
      ]);
    });

    it('starts recurringPaymentRun on the core queue, tagged with the customer, overlapping runs allowed', () => {
      const options = recurringScheduleOptions({ ...plan('weekly', '2027-03-03'), id: 'r1', userId: 'u1' });
      assert.equal(options.scheduleId, 'recurring-payment:r1');
      assert.equal(options.action.workflowType, 'recurringPaymentRun');
      assert.equal(options.action.taskQueue, TASK_QUEUES.core);
      assert.deepEqual(options.action.args, [{ recurringPaymentId: 'r1' }]);
      assert.deepEqual(options.action.typedSearchAttributes, [{ key: searchAttributes.CustomerId, value: 'u1' }]);
      assert.deepEqual(options.policies, { overlap: 'ALLOW_ALL', catchupWindow: '1 day' });
      assert.equal(options.state, undefined);
    });
  });
});
