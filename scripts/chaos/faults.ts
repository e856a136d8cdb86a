import type { Cluster } from './cluster';
import { Prng } from './prng';

/**
 * The fault schedule, drawn from the run's seed before the run starts, so the same seed
 * replays the same faults at the same offsets. Worker kills are the most frequent (a
 * worker is almost always mid-activity under the load); API kills, Temporal restarts and
 * PostgreSQL restarts (fast shutdown: every connection dropped) are rarer. The providers'
 * faults (declines, timeouts, unknown outcomes) come with the load: the sandbox tokens
 * and scripted biller references of operations.ts.
 */

export type FaultKind = 'kill_worker' | 'kill_api' | 'restart_temporal' | 'restart_postgres';

export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** Which worker or API process. */
  target: number;
}

export interface FaultPlan {
  durationMs: number;
  workers: number;
  apis: number;
  /** Mean time between worker kills. */
  workerKillEveryMs: number;
}

/** Relative frequency of each fault among all faults. */
const MIX: Array<{ kind: FaultKind; weight: number }> = [
  { kind: 'kill_worker', weight: 14 },
  { kind: 'kill_api', weight: 3 },
  { kind: 'restart_temporal', weight: 1 },
  { kind: 'restart_postgres', weight: 1 },
];

export function faultSchedule(seed: number, plan: FaultPlan): Fault[] {
  const prng = new Prng(seed ^ 0x5eed_fa17);
  const workerShare = (MIX[0] as { weight: number }).weight / MIX.reduce((sum, m) => sum + m.weight, 0);
  const meanGapMs = plan.workerKillEveryMs * workerShare;
  const faults: Fault[] = [];
  // Faults stop before the end, so the last restarts are done when the load stops.
  for (let at = prng.exponential(meanGapMs); at < plan.durationMs - 5_000; at += Math.max(500, prng.exponential(meanGapMs))) {
    const { kind } = prng.weighted(MIX);
    faults.push({ atMs: Math.round(at), kind, target: prng.int(0, (kind === 'kill_api' ? plan.apis : plan.workers) - 1) });
  }
  // At least one of each server restart in every run, at drawn moments.
  for (const kind of ['restart_temporal', 'restart_postgres'] as const) {
    if (!faults.some((f) => f.kind === kind)) faults.push({ atMs: prng.int(plan.durationMs / 4, (plan.durationMs * 3) / 4), kind, target: 0 });
  }
  return faults.sort((a, b) => a.atMs - b.atMs);
}

export type FaultCounts = Record<FaultKind, number>;

/**
 * Plays the schedule against the cluster until it ends or `stop` says so. Worker and API
 * kills return at once (the restart runs in the background, and a second kill of the
 * same process waits for it); a server restart is waited for.
 */
export async function playFaults(cluster: Cluster, faults: Fault[], startedAt: number, stop: () => boolean, log: (line: string) => void): Promise<FaultCounts> {
  const counts: FaultCounts = { kill_worker: 0, kill_api: 0, restart_temporal: 0, restart_postgres: 0 };
  for (const fault of faults) {
    const wait = startedAt + fault.atMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (stop()) break;
    const at = ((Date.now() - startedAt) / 1000).toFixed(1);
    try {
      if (fault.kind === 'kill_worker') await cluster.kill('worker', fault.target);
      else if (fault.kind === 'kill_api') await cluster.kill('api', fault.target);
      else if (fault.kind === 'restart_temporal') await cluster.restartTemporal();
      else await cluster.restartPostgres();
      counts[fault.kind] += 1;
      log(`${at}s ${fault.kind}${fault.kind.startsWith('kill') ? ` ${fault.target}` : ''}`);
    } catch (err) {
      log(`${at}s ${fault.kind} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return counts;
}
