import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { invoiceScheduleOptions } from '../../src/invoices/schedule';
import { scheduleIds, workflowIds } from '../../src/temporal/names';

/** The weekday Schedule of a customer's mailbox, as built before Temporal sees it. */
describe('invoice ingestion Schedule', () => {
  const userId = randomUUID();
  const options = invoiceScheduleOptions(userId, 'America/New_York');

  it('fires on weekdays at 08:30 in the customer timezone', () => {
    assert.deepEqual([options.spec.timezone, options.spec.calendars?.[0]?.hour, options.spec.calendars?.[0]?.minute, options.spec.calendars?.[0]?.dayOfWeek], ['America/New_York', 8, 30, [{ start: 'MONDAY', end: 'FRIDAY' }]]);
  });

  it('starts the small starter workflow, which runs the ingestion under the mailbox id, and skips overlaps', () => {
    assert.deepEqual(
      [options.scheduleId, options.action.workflowType, options.action.workflowId, options.action.args, options.policies?.overlap],
      [scheduleIds.invoiceIngestion(userId), 'scheduledIngestion', workflowIds.scheduledInvoiceIngestion(userId), [{ userId }], 'SKIP'],
    );
  });
});
