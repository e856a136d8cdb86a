import type { MetricMeter } from '@temporalio/common';
import { onBusinessEvent } from './business-events';

/**
 * The worker's business counters on the Temporal runtime's metric meter, so the SDK's
 * Prometheus endpoint (WORKER_METRICS_PORT) exports them with its own (docs/observability.md):
 *
 * - `finflow_payments_total{kind, outcome}`: payments that ended (succeeded, failed, cancelled);
 * - `finflow_ledger_transfers_total{code, kind}`: transfers the ledger applied;
 * - `finflow_messages_total{channel, status}`: SMS and emails reaching a status (sent,
 *   delivered, failed, …).
 *
 * Answers the unsubscribe.
 */
export function countBusinessEvents(meter: MetricMeter): () => void {
  const payments = meter.createCounter('finflow_payments_total', 'payments', 'Payments that ended, by kind and outcome.');
  const transfers = meter.createCounter('finflow_ledger_transfers_total', 'transfers', 'Ledger transfers applied, by code and kind.');
  const messages = meter.createCounter('finflow_messages_total', 'messages', 'Messages (SMS, email) reaching a status, by channel and status.');
  return onBusinessEvent((event) => {
    if (event.kind === 'payment_finished') payments.add(1, { kind: event.paymentKind, outcome: event.outcome });
    else if (event.kind === 'ledger_transfer') transfers.add(1, { code: event.code, kind: event.transferKind });
    else messages.add(1, { channel: event.channel, status: event.status });
  });
}
