/**
 * Business events the metrics count (docs/observability.md): a payment that ended, a
 * ledger transfer applied, a message whose status moved. The modules where they happen
 * (the ledger, the payment repository, the outbox) emit them here, whoever calls them;
 * each process subscribes what it exports (the worker: counters on the Temporal
 * runtime's meter, next to the SDK's own metrics). With no subscriber an event costs a
 * loop over an empty set. Listeners must not throw: a metric never fails a write.
 */

export type BusinessEvent =
  | { kind: 'payment_finished'; paymentKind: string; outcome: string }
  | { kind: 'ledger_transfer'; code: string; transferKind: string }
  | { kind: 'message_status'; channel: string; status: string };

type Listener = (event: BusinessEvent) => void;

const listeners = new Set<Listener>();

/** Subscribes a listener; answers its unsubscribe. */
export function onBusinessEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function emitBusinessEvent(event: BusinessEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // A metric must never fail the write it describes.
    }
  }
}
