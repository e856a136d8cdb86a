import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createRecurringActivities } from '../../src/activities/payments/recurring';
import type { Db } from '../../src/db/knex';
import { localDateTimeOf, parseLocalDate, formatLocalDate, type LocalDate } from '../../src/payments/recurring/period';
import { findRecurringPayment } from '../../src/payments/recurring/repository';
import { recurringScheduleOptions, type RecurringPlan } from '../../src/payments/recurring/schedule';
import { createSandboxNotifier } from '../../src/providers/sandbox-notifier';
import { devServer, testDb } from '../helpers/services';
import { recurringPaymentFixture } from '../helpers/recurring';

/**
 * Recurring payment Schedules on the Temporal dev server: the fire times the server
 * computes from the specs finflow builds (month ends, leap years, the customer's
 * timezone), and the dunning activity that pauses a Schedule.
 */
describe('recurring payment Schedules (dev server)', function () {
  this.timeout(60_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  const created: string[] = [];

  before(async function () {
    this.timeout(120_000);
    [env, db] = await Promise.all([devServer(), testDb()]);
  });

  after(async () => {
    for (const scheduleId of created) {
      await env.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch((err: unknown) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
    }
  });

  async function createSchedule(plan: RecurringPlan, id = randomUUID()) {
    const options = recurringScheduleOptions({ ...plan, id, userId: randomUUID() });
    created.push(options.scheduleId);
    return env.client.schedule.create(options);
  }

  const plan = (frequency: RecurringPlan['frequency'], startDate: string, timezone: string): RecurringPlan => ({
    frequency,
    startDate: parseLocalDate(startDate) as LocalDate,
    timezone,
  });

  /** The server's next fire times as local date and time in `timezone`. */
  async function nextFires(plan: RecurringPlan): Promise<string[]> {
    const { info } = await (await createSchedule(plan)).describe();
    return info.nextActionTimes.map((at) => {
      const local = localDateTimeOf(at, plan.timezone);
      return `${formatLocalDate(local)} ${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
    });
  }

  it('fires a monthly 31st on the last day of shorter months, at 09:00 New York time across DST', async () => {
    const fires = await nextFires(plan('monthly', '2027-01-31', 'America/New_York'));
    assert.deepEqual(fires.slice(0, 10), [
      '2027-01-31 09:00',
      '2027-02-28 09:00',
      '2027-03-31 09:00',
      '2027-04-30 09:00',
      '2027-05-31 09:00',
      '2027-06-30 09:00',
      '2027-07-31 09:00',
      '2027-08-31 09:00',
      '2027-09-30 09:00',
      '2027-10-31 09:00',
    ]);
  });

  it('fires on February 29 in a leap year and never on February 28 as well', async () => {
    const fires = await nextFires(plan('monthly', '2027-11-30', 'Europe/Berlin'));
    assert.deepEqual(fires.slice(0, 6), ['2027-11-30 09:00', '2027-12-30 09:00', '2028-01-30 09:00', '2028-02-29 09:00', '2028-03-30 09:00', '2028-04-30 09:00']);
  });

  it('fires a quarterly payment every third month from the start month', async () => {
    const fires = await nextFires(plan('quarterly', '2027-08-31', 'Asia/Tokyo'));
    assert.deepEqual(fires.slice(0, 4), ['2027-08-31 09:00', '2027-11-30 09:00', '2028-02-29 09:00', '2028-05-31 09:00']);
  });

  it('fires a weekly payment on the start date’s weekday, in a timezone east of UTC', async () => {
    // 2027-03-03 is a Wednesday; 09:00 in Auckland is the evening before in UTC.
    const fires = await nextFires(plan('weekly', '2027-03-03', 'Pacific/Auckland'));
    assert.deepEqual(fires.slice(0, 3), ['2027-03-03 09:00', '2027-03-10 09:00', '2027-03-17 09:00']);
  });

  it('keeps the customer timezone in the spec the server stores', async () => {
    const { spec, policies } = await (await createSchedule(plan('monthly', '2027-01-31', 'America/New_York'))).describe();
    assert.equal(spec.timezone, 'America/New_York');
    assert.equal(policies.overlap, 'ALLOW_ALL');
    assert.equal(policies.catchupWindow, 24 * 3600_000);
  });

  describe('pauseRecurringPayment activity', () => {
    async function recurringWithSchedule() {
      const { id } = await recurringPaymentFixture(db);
      const handle = await createSchedule(plan('monthly', '2027-01-31', 'America/New_York'), id);
      return { id, handle };
    }

    const activities = () => createRecurringActivities({ db, notifier: createSandboxNotifier(db), now: () => new Date(), temporal: env.client });

    it('pauses the Schedule with a note and marks the recurring payment paused with the reason', async () => {
      const { id, handle } = await recurringWithSchedule();
      const result = await activities().pauseRecurringPayment({ recurringPaymentId: id, period: '2027-03', reason: 'insufficient_funds' });
      assert.deepEqual(result, { paused: true });
      const { state } = await handle.describe();
      assert.equal(state.paused, true);
      assert.match(state.note ?? '', /2027-03: insufficient_funds/);
      const row = await findRecurringPayment(db, id);
      assert.deepEqual([row?.status, row?.paused_reason], ['paused', 'insufficient_funds']);
    });

    it('leaves a cancelled recurring payment cancelled and its Schedule alone', async () => {
      const { id, handle } = await recurringWithSchedule();
      await db('recurring_payments').where({ id }).update({ status: 'cancelled', cancelled_at: new Date() });
      assert.deepEqual(await activities().pauseRecurringPayment({ recurringPaymentId: id, period: '2027-03', reason: 'insufficient_funds' }), { paused: false });
      assert.equal((await handle.describe()).state.paused, false);
      assert.equal((await findRecurringPayment(db, id))?.status, 'cancelled');
    });

    it('pauses the row even when its Schedule is already gone', async () => {
      const { id, handle } = await recurringWithSchedule();
      await handle.delete();
      assert.deepEqual(await activities().pauseRecurringPayment({ recurringPaymentId: id, period: '2027-03', reason: 'insufficient_funds' }), { paused: true });
      assert.equal((await findRecurringPayment(db, id))?.status, 'paused');
    });
  });
});
