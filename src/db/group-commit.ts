/**
 * Group commit: many callers' writes, one statement at a time. Each call of the returned
 * function queues its item and resolves with that item's result once the statement that
 * carried it has committed. While one statement runs, new items wait and go together in
 * the next, so under load a statement carries many items and at rest each goes at once.
 * Nothing is held past its caller's await: this batches round trips, it queues no work.
 *
 * `write` gets the items in arrival order and answers one result per item, in that order.
 * `keyOf`: items with one key may not share a statement (an upsert cannot touch one row
 * twice); the later waits for the next statement.
 */
export function groupCommit<T, R>(write: (items: T[]) => Promise<R[]>, keyOf: (item: T) => string): (item: T) => Promise<R> {
  type Waiter = { item: T; resolve: (result: R) => void; reject: (err: unknown) => void };
  let waiting: Waiter[] = [];
  let running = false;

  const flush = async (): Promise<void> => {
    running = true;
    while (waiting.length > 0) {
      const batch: Waiter[] = [];
      const later: Waiter[] = [];
      const keys = new Set<string>();
      for (const waiter of waiting) {
        const key = keyOf(waiter.item);
        (keys.has(key) ? later : batch).push(waiter);
        keys.add(key);
      }
      waiting = later;
      try {
        const results = await write(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i] as R));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  };

  return (item: T) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) void flush();
    });
}
