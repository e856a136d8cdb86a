import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/knex';

/**
 * Faults of the sandbox providers, switched at run time for every process at once
 * (docs/reliability.md, "Slow providers"). A `sandbox_faults` row per sandbox says how its
 * calls misbehave until a moment:
 *
 * - `latency`: a share of calls wait `latencyMs`, then do their work;
 * - `failure`: a share of calls fail at once and do nothing (a 503 from the provider);
 * - `timeout`: a share of calls do their work, then wait `latencyMs` and fail as a
 *   timeout: the provider acted, the caller never heard (an unknown outcome).
 *
 * Only processes started with SANDBOX_FAULTS=true read the table (createPorts wraps the
 * sandboxes then, never a real provider), at most once a second per process.
 */

export const SANDBOX_NAMES = ['funding', 'billers', 'sms', 'email'] as const;
export type SandboxName = (typeof SANDBOX_NAMES)[number];
export type SandboxFaultMode = 'latency' | 'failure' | 'timeout';

export interface SandboxFault {
  provider: SandboxName;
  mode: SandboxFaultMode;
  latencyMs: number;
  /** The share of calls it hits, in (0, 1]. */
  share: number;
  until: Date;
}

export interface SandboxFaults {
  current(provider: SandboxName): Promise<SandboxFault | undefined>;
}

/** How long a process keeps the rows it read. */
const CACHE_MS = 1_000;

export function createSandboxFaults(db: Db, { now = () => Date.now(), random = Math.random }: { now?: () => number; random?: () => number } = {}): SandboxFaults & { random: () => number } {
  let cached: { readAt: number; faults: SandboxFault[] } | undefined;
  async function read(): Promise<SandboxFault[]> {
    if (cached && now() - cached.readAt < CACHE_MS) return cached.faults;
    // A database that cannot be read (restarting) means no fault: the sandbox's own write fails anyway.
    const rows: Array<{ provider: SandboxName; mode: SandboxFaultMode; latency_ms: number; share: number; until: Date }> = await db('sandbox_faults')
      .where('until', '>', new Date(now()))
      .catch(() => []);
    cached = { readAt: now(), faults: rows.map((r) => ({ provider: r.provider, mode: r.mode, latencyMs: r.latency_ms, share: Number(r.share), until: r.until })) };
    return cached.faults;
  }
  return {
    random,
    async current(provider) {
      return (await read()).find((f) => f.provider === provider && f.until.getTime() > now());
    },
  };
}

/** Switches a sandbox's fault on until `fault.until` (the chaos harness's side). */
export async function setSandboxFault(db: Db, fault: SandboxFault): Promise<void> {
  await db('sandbox_faults')
    .insert({ provider: fault.provider, mode: fault.mode, latency_ms: fault.latencyMs, share: fault.share, until: fault.until })
    .onConflict('provider')
    .merge();
}

/** The errors a provider's own adapter raises for a refused call and a lost answer. */
export interface FaultErrors {
  failure(detail: string): Error;
  timeout(detail: string): Error;
}

/**
 * The port with each of `methods` subject to the sandbox's current fault; other members
 * pass through. Which calls a fault hits is random (share), not seeded: the schedule of
 * faults is what the seed replays.
 */
export function withSandboxFaults<T extends object>(port: T, provider: SandboxName, faults: SandboxFaults & { random: () => number }, errors: FaultErrors, methods: ReadonlyArray<keyof T>): T {
  const wrapped = Object.create(port) as T;
  for (const method of methods) {
    const original = port[method];
    if (typeof original !== 'function') continue;
    const call = (original as (...args: unknown[]) => Promise<unknown>).bind(port);
    (wrapped as Record<keyof T, unknown>)[method] = async (...args: unknown[]) => {
      const fault = await faults.current(provider);
      if (!fault || faults.random() >= fault.share) return call(...args);
      const detail = `sandbox ${provider}: injected ${fault.mode}`;
      if (fault.mode === 'failure') throw errors.failure(detail);
      if (fault.mode === 'latency') {
        await sleep(fault.latencyMs);
        return call(...args);
      }
      await call(...args);
      await sleep(fault.latencyMs);
      throw errors.timeout(`${detail} after ${fault.latencyMs} ms (the call took effect)`);
    };
  }
  return wrapped;
}
