/** Closed-loop load: `clients` loops each run `op` until `total` ops are done. */

export interface Measurement {
  name: string;
  /** Calls made. */
  calls: number;
  /** Units of work (transfers or updates) done: calls × units per call. */
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sortedMs: number[], p: number): number {
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? 0;
}

export async function measure(
  name: string,
  { clients, calls, unitsPerCall = 1 }: { clients: number; calls: number; unitsPerCall?: number },
  op: (call: number, client: number) => Promise<void>,
): Promise<Measurement> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let call = next++; call < calls; call = next++) {
        const t0 = process.hrtime.bigint();
        await op(call, client);
        latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  const ops = calls * unitsPerCall;
  return { name, calls, ops, seconds, opsPerSecond: ops / seconds, p50Ms: percentile(latenciesMs, 50), p99Ms: percentile(latenciesMs, 99) };
}
