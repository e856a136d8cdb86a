import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { withDeadline } from '../temporal/client';
import { TASK_QUEUES, scheduleIds, searchAttributes, workflowIds } from '../temporal/names';
import type { ScheduledIngestionWorkflow } from '../workflows/invoices/contract';

/**
 * Each customer with a mailbox has a Schedule `invoice-ingestion:<customerId>` that fetches
 * new invoices on weekdays at 08:30 in the customer's timezone. It starts the small
 * `scheduledIngestion` workflow, which starts the ingestion under the mailbox's own
 * workflow id (a Schedule appends its fire time to ids), so a scheduled run and one asked
 * for through the API never overlap.
 */

export const INGESTION_LOCAL_TIME = { hour: 8, minute: 30 } as const;

export function invoiceScheduleOptions(userId: string, timezone: string): ScheduleOptions<ScheduleOptionsStartWorkflowAction<ScheduledIngestionWorkflow>> {
  return {
    scheduleId: scheduleIds.invoiceIngestion(userId),
    spec: {
      calendars: [{ ...INGESTION_LOCAL_TIME, second: 0, dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY' }], comment: 'weekdays at 08:30' }],
      timezone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledIngestion',
      workflowId: workflowIds.scheduledInvoiceIngestion(userId),
      taskQueue: TASK_QUEUES.core,
      args: [{ userId }],
      typedSearchAttributes: [{ key: searchAttributes.CustomerId, value: userId }],
    },
    policies: { overlap: 'SKIP', catchupWindow: '1 hour' },
  };
}

/** Creates the customer's Schedule, or moves it to a new timezone. */
export async function ensureInvoiceSchedule(temporal: Client, timeoutMs: number, userId: string, timezone: string): Promise<void> {
  const options = invoiceScheduleOptions(userId, timezone);
  try {
    await withDeadline(temporal, timeoutMs, () => temporal.schedule.create(options));
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = temporal.schedule.getHandle(options.scheduleId);
    await withDeadline(temporal, timeoutMs, () => handle.update((previous) => ({ ...previous, spec: options.spec })));
  }
}

/** Deletes the customer's Schedule; none is fine (answers whether there was one). */
export async function deleteInvoiceSchedule(temporal: Client, timeoutMs: number, userId: string): Promise<boolean> {
  try {
    await withDeadline(temporal, timeoutMs, () => temporal.schedule.getHandle(scheduleIds.invoiceIngestion(userId)).delete());
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
