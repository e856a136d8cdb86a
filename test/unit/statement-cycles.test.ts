import assert from 'node:assert/strict';
import { calendarMonthCycle, cardCycle, dayBefore, isMonthEnd, lastDayOf, statementDaysClosingOn } from '../../src/banking/statement-cycles';

/** Statement cycles at month ends: a card's statement day in short months, leap years, year ends. */
describe('statement cycles', () => {
  it('covers the 16th of last month to the end of the 15th for a card with statement day 15', () => {
    assert.deepEqual(cardCycle(15, '2026-12-15'), { from: '2026-11-16T00:00:00.000Z', to: '2026-12-16T00:00:00.000Z' });
  });

  it('closes a day-31 card on the 30th in a 30-day month, its cycle opening after the 31st before', () => {
    assert.deepEqual(cardCycle(31, '2026-11-30'), { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
  });

  it('opens the cycle after a short month closed early: day 30 in March opens on 1 March', () => {
    assert.deepEqual(cardCycle(30, '2027-03-30'), { from: '2027-03-01T00:00:00.000Z', to: '2027-03-31T00:00:00.000Z' });
  });

  it('closes days 28 to 31 on 28 February in a common year', () => {
    assert.deepEqual(statementDaysClosingOn('2027-02-28'), [28, 29, 30, 31]);
  });

  it('closes only day 28 on 28 February in a leap year, and days 29 to 31 on the 29th', () => {
    assert.deepEqual([statementDaysClosingOn('2028-02-28'), statementDaysClosingOn('2028-02-29')], [[28], [29, 30, 31]]);
  });

  it('closes no other day than itself mid-month', () => {
    assert.deepEqual(statementDaysClosingOn('2026-12-15'), [15]);
  });

  it('refuses a card cycle that does not close on the day given', () => {
    assert.throws(() => cardCycle(15, '2026-12-16'), /does not close on 2026-12-16/);
  });

  it('crosses the year end: a day-5 card closing on 5 January opens on 6 December', () => {
    assert.deepEqual(cardCycle(5, '2027-01-05'), { from: '2026-12-06T00:00:00.000Z', to: '2027-01-06T00:00:00.000Z' });
  });

  it('cuts calendar-month statements on the month’s last day only', () => {
    assert.deepEqual([isMonthEnd('2026-11-30'), isMonthEnd('2026-12-30'), isMonthEnd('2028-02-29')], [true, false, true]);
    assert.deepEqual(calendarMonthCycle('2026-12-31'), { from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
  });

  it('names the day a run just after midnight closes, across a year end', () => {
    assert.deepEqual([dayBefore(new Date('2027-01-01T02:00:00Z')), dayBefore(new Date('2026-03-01T02:00:00Z'))], ['2026-12-31', '2026-02-28']);
  });

  it('states a period by the last day it covers', () => {
    assert.deepEqual([lastDayOf(new Date('2026-12-16T00:00:00Z')), lastDayOf(new Date('2026-12-16T09:30:00Z'))], ['2026-12-15', '2026-12-16']);
  });
});
