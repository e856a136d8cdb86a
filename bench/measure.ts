/**
 * Closed-loop load: `clients` concurrent loops share `calls` calls of `op`. A scenario
 * may be measured in several rounds (interleaved with other scenarios, so that a shared
 * machine's drift hits all of them alike); `Tally` accumulates the rounds.
 */

export interface Measurement {
  name: string;
  /** Calls made. */
  calls: number;
  /** Units of work (transfers or updates): calls × units per call. */
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of this (client) process per op, all clients together. */
  clientCpuUsPerOp: number;
  /** ops/s of each round, when measured in rounds. */
  roundsOpsPerSecond: number[];
}

function percentile(sortedMs: number[], p: number): number {
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? 0;
}

export class Tally {
  private readonly latenciesMs: number[] = [];
  private readonly rounds: number[] = [];
  private calls = 0;
  private seconds = 0;
  private cpuUs = 0;

  constructor(
    readonly name: string,
    private readonly unitsPerCall = 1,
  ) {}

  /** Runs one round of `calls` calls over `clients` concurrent loops. */
  async round(clients: number, calls: number, op: (call: number, client: number) => Promise<void>): Promise<void> {
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        for (let call = next++; call < calls; call = next++) {
          const started = process.hrtime.bigint();
          await op(call, client);
          this.latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    this.calls += calls;
    this.seconds += seconds;
    this.cpuUs += cpu.user + cpu.system;
    this.rounds.push((calls * this.unitsPerCall) / seconds);
  }

  result(): Measurement {
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    const ops = this.calls * this.unitsPerCall;
    return {
      name: this.name,
      calls: this.calls,
      ops,
      seconds: this.seconds,
      opsPerSecond: ops / this.seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      clientCpuUsPerOp: this.cpuUs / ops,
      roundsOpsPerSecond: this.rounds,
    };
  }
}
