import assert from 'node:assert/strict';
import {
  canonicalTimeZone,
  daysInMonth,
  instantOf,
  isoWeekOf,
  localDateOf,
  parseLocalDate,
  periodOf,
  periodOfDate,
} from '../../src/payments/recurring/period';

describe('recurring payment periods', () => {
  describe('periodOf in the customer timezone', () => {
    it('names the month of the local date, not the UTC one, late in the evening west of UTC', () => {
      // 23:30 UTC on March 31 is 19:30 the same day in New York (EDT, UTC-4).
      assert.equal(periodOf('monthly', new Date('2027-03-31T23:30:00Z'), 'America/New_York'), '2027-03');
    });

    it('names the next month early in the morning east of UTC', () => {
      // The same instant is 08:30 on April 1 in Tokyo.
      assert.equal(periodOf('monthly', new Date('2027-03-31T23:30:00Z'), 'Asia/Tokyo'), '2027-04');
    });

    it('tells two instants a minute apart across local midnight into two months', () => {
      // Kolkata is UTC+05:30: local midnight of May 1 is 18:30 UTC on April 30.
      assert.equal(periodOf('monthly', new Date('2027-04-30T18:29:00Z'), 'Asia/Kolkata'), '2027-04');
      assert.equal(periodOf('monthly', new Date('2027-04-30T18:30:00Z'), 'Asia/Kolkata'), '2027-05');
    });

    it('counts the year from the local date on New Year’s Eve', () => {
      assert.equal(periodOf('monthly', new Date('2027-01-01T03:00:00Z'), 'America/Los_Angeles'), '2026-12');
      assert.equal(periodOf('quarterly', new Date('2027-01-01T03:00:00Z'), 'America/Los_Angeles'), '2026-Q4');
      assert.equal(periodOf('quarterly', new Date('2027-01-01T03:00:00Z'), 'UTC'), '2027-Q1');
    });

    it('puts a Sunday-night UTC instant in the next ISO week where it is already Monday', () => {
      // Sunday 2027-01-03 23:30 UTC is Monday 08:30 in Tokyo.
      assert.equal(periodOf('weekly', new Date('2027-01-03T23:30:00Z'), 'UTC'), '2026-W53');
      assert.equal(periodOf('weekly', new Date('2027-01-03T23:30:00Z'), 'Asia/Tokyo'), '2027-W01');
    });

    it('follows a DST change: the same wall time on both sides is one day apart, one period each', () => {
      // Clocks in New York go forward on 2027-03-14; 09:00 local is 14:00 UTC before, 13:00 after.
      assert.equal(periodOf('weekly', new Date('2027-03-13T14:00:00Z'), 'America/New_York'), '2027-W10');
      assert.equal(periodOf('weekly', new Date('2027-03-15T13:00:00Z'), 'America/New_York'), '2027-W11');
    });
  });

  describe('ISO weeks', () => {
    const week = (y: number, m: number, d: number) => periodOfDate('weekly', { year: y, month: m, day: d });

    it('gives 2026 a week 53 that runs into January 2027', () => {
      assert.equal(week(2026, 12, 28), '2026-W53');
      assert.equal(week(2026, 12, 31), '2026-W53');
      assert.equal(week(2027, 1, 3), '2026-W53');
      assert.equal(week(2027, 1, 4), '2027-W01');
    });

    it('starts 2025 on Monday December 30, 2024', () => {
      assert.equal(week(2024, 12, 29), '2024-W52');
      assert.equal(week(2024, 12, 30), '2025-W01');
    });

    it('has week 53 exactly in years that start or (leap years) end on a Thursday', () => {
      const longYears = [];
      for (let year = 2020; year <= 2040; year++) if (isoWeekOf({ year, month: 12, day: 28 }).week === 53) longYears.push(year);
      assert.deepEqual(longYears, [2020, 2026, 2032, 2037]);
    });

    it('pads the week to two digits', () => {
      assert.equal(week(2027, 3, 1), '2027-W09');
    });
  });

  describe('quarters', () => {
    const quarter = (m: number) => periodOfDate('quarterly', { year: 2027, month: m, day: 15 });

    it('maps each month to its calendar quarter', () => {
      assert.deepEqual(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(quarter),
        ['Q1', 'Q1', 'Q1', 'Q2', 'Q2', 'Q2', 'Q3', 'Q3', 'Q3', 'Q4', 'Q4', 'Q4'].map((q) => `2027-${q}`),
      );
    });

    it('gives every third month from any start month a quarter of its own', () => {
      for (let start = 1; start <= 12; start++) {
        const months = [0, 3, 6, 9].map((offset) => ((start - 1 + offset) % 12) + 1);
        assert.equal(new Set(months.map(quarter)).size, 4, `start month ${start}`);
      }
    });
  });

  describe('local dates and instants', () => {
    it('finds the instant of 09:00 local on each side of a DST change', () => {
      assert.equal(instantOf({ year: 2027, month: 3, day: 13, hour: 9 }, 'America/New_York').toISOString(), '2027-03-13T14:00:00.000Z');
      assert.equal(instantOf({ year: 2027, month: 3, day: 15, hour: 9 }, 'America/New_York').toISOString(), '2027-03-15T13:00:00.000Z');
    });

    it('moves a wall time the clocks skip past the gap, and takes the first of a repeated one', () => {
      assert.equal(instantOf({ year: 2027, month: 3, day: 14, hour: 2, minute: 30 }, 'America/New_York').toISOString(), '2027-03-14T07:30:00.000Z');
      assert.equal(instantOf({ year: 2027, month: 11, day: 7, hour: 1, minute: 30 }, 'America/New_York').toISOString(), '2027-11-07T05:30:00.000Z');
    });

    it('handles half-hour offsets', () => {
      assert.equal(instantOf({ year: 2027, month: 1, day: 31 }, 'Asia/Kolkata').toISOString(), '2027-01-30T18:30:00.000Z');
    });

    it('round-trips local midnight to the same local date', () => {
      for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/London', 'Australia/Lord_Howe']) {
        const instant = instantOf({ year: 2028, month: 2, day: 29 }, zone);
        assert.deepEqual(localDateOf(instant, zone), { year: 2028, month: 2, day: 29 }, zone);
      }
    });

    it('parses only real calendar days', () => {
      assert.deepEqual(parseLocalDate('2028-02-29'), { year: 2028, month: 2, day: 29 });
      assert.equal(parseLocalDate('2027-02-29'), undefined);
      assert.equal(parseLocalDate('2027-04-31'), undefined);
      assert.equal(parseLocalDate('2027-4-1'), undefined);
    });

    it('knows month lengths, leap years included', () => {
      assert.deepEqual(
        [2, 4, 12].map((m) => daysInMonth(2027, m)),
        [28, 30, 31],
      );
      assert.equal(daysInMonth(2028, 2), 29);
      assert.equal(daysInMonth(2100, 2), 28);
      assert.equal(daysInMonth(2000, 2), 29);
    });
  });

  describe('canonicalTimeZone', () => {
    it('spells a known zone the canonical way', () => {
      assert.equal(canonicalTimeZone('america/new_york'), 'America/New_York');
      assert.equal(canonicalTimeZone('UTC'), 'UTC');
    });

    it('refuses unknown zones and bare offsets', () => {
      for (const name of ['Mars/Olympus_Mons', '+05:00', 'GMT+5:30', '', 'America/New_York; drop table']) {
        assert.equal(canonicalTimeZone(name), undefined, name);
      }
    });
  });
});
