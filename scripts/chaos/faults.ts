import { temporal } from '@temporalio/proto';
import { SANDBOX_NAMES, setSandboxFault, type SandboxFaultMode, type SandboxName } from '../../src/providers/sandbox-faults';
import type { Cluster } from './cluster';
import { Prng } from './prng';

/**
 * The fault schedule, drawn from the run's seed before the run starts, so the same seed
 * replays the same faults at the same offsets. Worker kills are the most frequent (a
 * worker is almost always mid-activity under the load); API kills, Temporal restarts and
 * PostgreSQL restarts (fast shutdown: every connection dropped) are rarer. Slow providers
 * switch a sandbox's fault on for a while (src/providers/sandbox-faults.ts: latency,
 * failures, timeouts after the call took effect). The scripted provider outcomes
 * (declines, timeouts, unknown outcomes) come with the load: the sandbox tokens and
 * biller references of operations.ts.
 */

export type FaultKind = 'kill_worker' | 'kill_api' | 'restart_temporal' | 'restart_postgres' | 'slow_provider';

/** A sandbox's misbehaviour for a while. */
export interface ProviderFault {
  provider: SandboxName;
  mode: SandboxFaultMode;
  latencyMs: number;
  share: number;
  durationMs: number;
}

export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** Which worker or API process. */
  target: number;
  /** A worker kill aimed at whichever worker holds a started activity now (the target when none does). */
  aimed?: boolean;
  provider?: ProviderFault;
}

export interface FaultPlan {
  durationMs: number;
  workers: number;
  apis: number;
  /** Mean time between worker kills. */
  workerKillEveryMs: number;
}

/** Mean time between faults of the rarer kinds; worker kills come every `workerKillEveryMs`. */
const MEAN_GAP_MS: Record<Exclude<FaultKind, 'kill_worker' | 'slow_provider'>, number> = {
  kill_api: 20_000,
  restart_temporal: 150_000,
  restart_postgres: 150_000,
};
/** Mean time between slow-provider spells; each lasts 10-40 s. */
const PROVIDER_FAULT_GAP_MS = 25_000;

/** A sandbox's spell: every call slow (0.5-8 s), a share failing at once, or a share timing out (1-15 s) after taking effect. */
function providerFault(prng: Prng): ProviderFault {
  const provider = prng.pick(SANDBOX_NAMES);
  const durationMs = prng.int(10_000, 40_000);
  const mode = prng.pick(['latency', 'failure', 'timeout'] as const);
  if (mode === 'latency') return { provider, mode, latencyMs: prng.int(500, 8_000), share: 1, durationMs };
  if (mode === 'failure') return { provider, mode, latencyMs: 0, share: Number((0.3 + prng.next() * 0.6).toFixed(2)), durationMs };
  return { provider, mode, latencyMs: prng.int(1_000, 15_000), share: Number((0.2 + prng.next() * 0.4).toFixed(2)), durationMs };
}

export function faultSchedule(seed: number, plan: FaultPlan): Fault[] {
  const prng = new Prng(seed ^ 0x5eed_fa17);
  const faults: Fault[] = [];
  // Faults stop a few seconds before the load does, so the last restarts are under load too.
  const end = plan.durationMs - 3_000;
  // Worker kills: evenly spread with jitter (half to one and a half times the mean gap), so
  // a run of a given length makes a predictable number of them.
  for (let at = prng.next() * plan.workerKillEveryMs; at < end; at += plan.workerKillEveryMs * (0.5 + prng.next())) {
    faults.push({ atMs: Math.round(at), kind: 'kill_worker', target: prng.int(0, plan.workers - 1), aimed: prng.next() < 1 / 3 });
  }
  for (const [kind, meanMs] of Object.entries(MEAN_GAP_MS) as Array<[FaultKind, number]>) {
    const moments: number[] = [];
    for (let at = prng.exponential(meanMs); at < end; at += prng.exponential(meanMs)) moments.push(at);
    // Every run restarts each server at least once, at a drawn moment in its middle half.
    if (moments.length === 0 && kind !== 'kill_api') moments.push(end / 4 + prng.next() * (end / 2));
    for (const at of moments) faults.push({ atMs: Math.round(at), kind, target: prng.int(0, (kind === 'kill_api' ? plan.apis : plan.workers) - 1) });
  }
  // Drawn after the others, so adding them left every earlier seed's kills and restarts where they were.
  for (let at = prng.exponential(PROVIDER_FAULT_GAP_MS) / 4; at < end; at += prng.exponential(PROVIDER_FAULT_GAP_MS)) {
    faults.push({ atMs: Math.round(at), kind: 'slow_provider', target: 0, provider: providerFault(prng) });
  }
  return faults.sort((a, b) => a.atMs - b.atMs);
}

export type FaultCounts = Record<FaultKind | 'kill_worker_mid_activity', number>;

/**
 * Plays the schedule against the cluster until it ends or `stop` says so. A kill returns
 * at once and its process restarts in the background (a second kill of the same process
 * waits for that restart); a server restart holds the schedule until it is done.
 */
export async function playFaults(cluster: Cluster, faults: Fault[], startedAt: number, stop: () => boolean, log: (line: string) => void): Promise<FaultCounts> {
  const counts: FaultCounts = { kill_worker: 0, kill_worker_mid_activity: 0, kill_api: 0, restart_temporal: 0, restart_postgres: 0, slow_provider: 0 };
  const kills: Array<Promise<void>> = [];
  const perform = async (fault: Fault) => {
    try {
      if (fault.kind === 'kill_worker' || fault.kind === 'kill_api') {
        const holder = fault.aimed ? await activityHolder(cluster).catch(() => undefined) : undefined;
        if (!(await cluster.kill(fault.kind === 'kill_worker' ? 'worker' : 'api', holder ?? fault.target, stop))) return;
        if (holder !== undefined) counts.kill_worker_mid_activity += 1;
      } else if (fault.provider) {
        const { durationMs, ...spell } = fault.provider;
        await setSandboxFault(cluster.db, { ...spell, until: new Date(Date.now() + durationMs) });
      } else if (fault.kind === 'restart_temporal') await cluster.restartTemporal();
      else await cluster.restartPostgres();
      counts[fault.kind] += 1;
      const what = fault.provider ? ` ${fault.provider.provider} ${fault.provider.mode} ${fault.provider.latencyMs} ms × ${fault.provider.share} for ${fault.provider.durationMs / 1000} s` : fault.kind.startsWith('kill') ? ` ${fault.target}` : '';
      log(`${((Date.now() - startedAt) / 1000).toFixed(1)}s ${fault.kind}${what}${fault.aimed ? ' (aimed)' : ''}`);
    } catch (err) {
      log(`${((Date.now() - startedAt) / 1000).toFixed(1)}s ${fault.kind} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  for (const fault of faults) {
    const wait = startedAt + fault.atMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (stop()) break;
    if (fault.kind.startsWith('kill')) kills.push(perform(fault));
    else await perform(fault);
  }
  await Promise.all(kills);
  return counts;
}

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/**
 * The worker holding a started activity right now, found by describing running
 * workflows (a few, within a second or two); undefined when none holds one.
 */
async function activityHolder(cluster: Cluster): Promise<number | undefined> {
  const deadline = Date.now() + 2_000;
  let described = 0;
  for await (const execution of cluster.client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    if (Date.now() > deadline || described++ >= 25) return undefined;
    const { raw } = await cluster.client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    for (const activity of raw.pendingActivities ?? []) {
      const pid = Number(/^(\d+)@/.exec(activity.lastWorkerIdentity ?? '')?.[1]);
      const worker = activity.state === STARTED && pid ? cluster.workerByPid(pid) : undefined;
      if (worker !== undefined) return worker;
    }
  }
  return undefined;
}
