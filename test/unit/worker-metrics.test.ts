import assert from 'node:assert/strict';
import type { MetricCounter, MetricMeter, MetricTags } from '@temporalio/common';
import { emitBusinessEvent } from '../../src/observability/business-events';
import { countBusinessEvents } from '../../src/observability/worker-metrics';

/** A meter that keeps what each counter was given. */
function recordingMeter() {
  const added: Array<{ name: string; value: number; tags: MetricTags }> = [];
  const counter = (name: string): MetricCounter =>
    ({ name, add: (value: number, tags: MetricTags = {}) => added.push({ name, value, tags }), withTags: () => counter(name) }) as unknown as MetricCounter;
  return { meter: { createCounter: counter } as unknown as MetricMeter, added };
}

describe('worker business counters', () => {
  it('counts a finished payment by kind and outcome', () => {
    const { meter, added } = recordingMeter();
    const stop = countBusinessEvents(meter);
    emitBusinessEvent({ kind: 'payment_finished', paymentKind: 'bill', outcome: 'failed' });
    stop();
    assert.deepEqual(added, [{ name: 'finflow_payments_total', value: 1, tags: { kind: 'bill', outcome: 'failed' } }]);
  });

  it('counts ledger transfers and messages under their own names', () => {
    const { meter, added } = recordingMeter();
    const stop = countBusinessEvents(meter);
    emitBusinessEvent({ kind: 'ledger_transfer', code: 'fee', transferKind: 'pending' });
    emitBusinessEvent({ kind: 'message_status', channel: 'sms', status: 'delivered' });
    stop();
    assert.deepEqual(added.map((a) => a.name), ['finflow_ledger_transfers_total', 'finflow_messages_total']);
  });

  it('counts nothing once unsubscribed', () => {
    const { meter, added } = recordingMeter();
    countBusinessEvents(meter)();
    emitBusinessEvent({ kind: 'payment_finished', paymentKind: 'bill', outcome: 'succeeded' });
    assert.deepEqual(added, []);
  });
});
