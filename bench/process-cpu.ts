import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU seconds used by the processes a bench runs beside itself (the PostgreSQL server,
 * the Temporal dev server), read from /proc: a process and its children, the reaped ones
 * included. Undefined where /proc or the process is not there.
 */

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in ticks. */
  cpu: number;
  /** cutime + cstime: children it has reaped, in ticks. */
  reaped: number;
  cmdline: string;
}

async function processes(): Promise<ProcStat[] | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  const stats: ProcStat[] = [];
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      stats.push({ pid: Number(pid), ppid: Number(fields[1]), cpu: Number(fields[11]) + Number(fields[12]), reaped: Number(fields[13]) + Number(fields[14]), cmdline });
    } catch {
      // The process ended meanwhile.
    }
  }
  return stats;
}

/** CPU seconds of the first process whose command line passes `matches`, with its live and reaped children. */
export async function processTreeCpuSeconds(matches: (cmdline: string) => boolean): Promise<number | undefined> {
  const stats = await processes();
  const root = stats?.find((p) => matches(p.cmdline));
  if (!stats || !root) return undefined;
  const children = stats.filter((p) => p.ppid === root.pid);
  return (root.cpu + root.reaped + children.reduce((sum, p) => sum + p.cpu, 0)) / TICKS_PER_SECOND;
}

/** The PostgreSQL server whose data directory is `dataDirectory` (`show data_directory`). */
export const postgresCpuSeconds = (dataDirectory: string) => processTreeCpuSeconds((cmdline) => cmdline.includes(dataDirectory) && /postgres/.test(cmdline));

/** The Temporal dev server listening on `address`'s port. */
export const temporalCpuSeconds = (address: string) => {
  const port = address.split(':').pop() as string;
  return processTreeCpuSeconds((cmdline) => cmdline.includes('start-dev') && new RegExp(`--port ${port}( |$)`).test(cmdline));
};

/** This process's CPU seconds since `from`. */
export function ownCpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

/** CPU per operation of each scenario a bench runs, split by process: the Temporal server, PostgreSQL, and this process (worker and clients). */
export class CpuAccount {
  private readonly totals = new Map<string, { ops: number; temporal: number; postgres: number; self: number }>();

  constructor(private readonly sources: { postgresDataDirectory: string; temporalAddress: string }) {}

  private async sample(): Promise<{ temporal: number; postgres: number }> {
    const [temporal, postgres] = await Promise.all([temporalCpuSeconds(this.sources.temporalAddress), postgresCpuSeconds(this.sources.postgresDataDirectory)]);
    return { temporal: temporal ?? NaN, postgres: postgres ?? NaN };
  }

  /** Runs `run` (which does `ops` operations of scenario `name`) and adds the CPU each process spent meanwhile to the scenario's. */
  async measure<T>(name: string, ops: number, run: () => Promise<T>): Promise<T> {
    const before = await this.sample();
    const from = process.cpuUsage();
    const result = await run();
    const self = ownCpuSecondsSince(from);
    const after = await this.sample();
    const total = this.totals.get(name) ?? { ops: 0, temporal: 0, postgres: 0, self: 0 };
    this.totals.set(name, { ops: total.ops + ops, temporal: total.temporal + after.temporal - before.temporal, postgres: total.postgres + after.postgres - before.postgres, self: total.self + self });
    return result;
  }

  /** CPU milliseconds per operation of each scenario, by process. */
  perOperation(): Array<{ name: string; ops: number; temporalMs: number; postgresMs: number; selfMs: number; totalMs: number }> {
    return [...this.totals.entries()].map(([name, t]) => {
      const ms = (seconds: number) => (seconds * 1000) / t.ops;
      return { name, ops: t.ops, temporalMs: ms(t.temporal), postgresMs: ms(t.postgres), selfMs: ms(t.self), totalMs: ms(t.temporal + t.postgres + t.self) };
    });
  }
}
