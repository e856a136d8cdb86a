import type { Notifier } from '../../providers/notifier';
import type { NotificationStatus } from '../../providers/outbox';

export interface RecordNotificationFailureInput {
  /** The key the failed send used, `<workflowId>:<step>`. The idempotency key, under the name recorded histories carry. */
  dedupeKey: string;
  /** Why the workflow gave up, e.g. the last error Temporal reported. */
  reason: string;
}

export interface RecordNotificationFailureResult {
  /** Null when no message was ever claimed under the key. */
  notificationId: string | null;
  /** `failed`, or the status a provider had already reached (which is kept). */
  status: NotificationStatus | null;
}

export function createNotificationActivities({ notifier }: { notifier: Notifier }) {
  return {
    /**
     * Called by a workflow once a send's retries are exhausted, so the outbox says the
     * message failed for good and why, instead of staying `queued`. Idempotent.
     */
    async recordNotificationFailure({ dedupeKey, reason }: RecordNotificationFailureInput): Promise<RecordNotificationFailureResult> {
      const recorded = await notifier.recordFailure(dedupeKey, reason);
      return { notificationId: recorded?.id ?? null, status: recorded?.status ?? null };
    },
  };
}
