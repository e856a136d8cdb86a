import { spawn, type ChildProcess } from 'node:child_process';
import { DeadlineError, formatMs, withDeadline } from './deadline';
import { PortInUseError, freePort, isPortFree } from './ports';

/**
 * Starts one local child service (PostgreSQL, the Temporal servers, the S3 and mail
 * servers) for `npm start`, the tests and the benchmarks, and never waits forever:
 * it spawns the process, probes its readiness until a deadline, fails at once if the
 * process exits, and retries once (on fresh ports where the ports are free to choose).
 * A failure names the service, its ports, the command line and the last lines the
 * service printed, which is almost always where the real cause is.
 */

/** A port the service listens on: fixed (configured, named by its variable) or free to choose. */
export interface PortSpec {
  /** A fixed port; omit to let the OS pick a free one on every attempt. */
  port?: number;
  /** The environment variable that moves a fixed port, named when it is taken. */
  envVar?: string;
}

export type Ports<K extends string> = Record<K, number>;

export interface ServiceSpec<K extends string> {
  /** Human name, first word of every message: "Temporal dev server". */
  name: string;
  ports: Record<K, PortSpec>;
  command: string;
  args(ports: Ports<K>): string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** One readiness probe: resolves true when the service answers; false or a throw means "not yet". */
  ready(ports: Ports<K>): Promise<boolean>;
  /** How long one attempt may take to become ready. */
  timeoutMs: number;
  /** Attempts in all (default 2: one retry). */
  attempts?: number;
  probeIntervalMs?: number;
  /** Signal for an orderly stop (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** How long an orderly stop may take before SIGKILL (default 15 s). */
  stopTimeoutMs?: number;
  /** Each line the service prints, e.g. to forward it to a log. */
  onLine?: (line: string) => void;
  /** Called before a retry, with the failure that caused it. */
  onRetry?: (error: ServiceStartError) => void;
}

export interface RunningService<K extends string> {
  name: string;
  ports: Ports<K>;
  pid: number;
  commandLine: string;
  /** The last lines the service printed. */
  recentOutput(): string[];
  /** Orderly stop, then SIGKILL after stopTimeoutMs; resolves when the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit, as a crash would. */
  kill(): Promise<void>;
}

const KEPT_LINES = 40;
const SHOWN_LINES = 20;

export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
  constructor(
    readonly service: string,
    readonly reason: string,
    readonly ports: Record<string, number>,
    readonly commandLine: string,
    readonly lastLines: string[],
    readonly attempts: number,
  ) {
    const portList = Object.entries(ports)
      .map(([name, port]) => `${name} ${port}`)
      .join(', ');
    const tail = lastLines.slice(-SHOWN_LINES);
    super(
      [
        `${service} did not start: ${reason} (attempt ${attempts}${portList ? `; ports: ${portList}` : ''})`,
        `  command: ${commandLine}`,
        tail.length > 0 ? `  last output:\n${tail.map((l) => `    | ${l}`).join('\n')}` : '  it printed nothing',
      ].join('\n'),
    );
  }
}

/** Processes still running when this process exits are killed, so no test or failed start leaves orphans. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child);
});

/**
 * SIGKILL to the service's whole process group (it runs in its own): a server that has
 * children of its own (PostgreSQL's backends) leaves none behind.
 */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function resolvePorts<K extends string>(spec: ServiceSpec<K>): Promise<Ports<K>> {
  const ports = {} as Ports<K>;
  for (const key of Object.keys(spec.ports) as K[]) {
    const { port, envVar } = spec.ports[key];
    if (port === undefined) {
      ports[key] = await freePort();
    } else {
      if (!(await isPortFree(port))) throw new PortInUseError(spec.name, port, envVar);
      ports[key] = port;
    }
  }
  return ports;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    if (signal === 'SIGKILL') killGroup(child);
    else child.kill(signal);
  }
  try {
    await withDeadline('an orderly stop', timeoutMs, exited(child));
  } catch {
    killGroup(child);
    await exited(child);
  }
  live.delete(child);
}

/** One attempt: spawn, then wait for ready, exit or deadline, whichever comes first. */
async function attempt<K extends string>(spec: ServiceSpec<K>, ports: Ports<K>, number: number): Promise<RunningService<K>> {
  const args = spec.args(ports);
  const commandLine = [spec.command, ...args].map(quote).join(' ');
  const lines: string[] = [];
  const child = spawn(spec.command, args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    uid: spec.uid,
    gid: spec.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches only the parent, which
    // stops the services in order (the worker before the Temporal server it needs).
    detached: true,
  });
  live.add(child);
  const fail = (reason: string) => new ServiceStartError(spec.name, reason, ports, commandLine, lines, number);
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const split = text.split(/\r?\n/);
    partial = split.pop() ?? '';
    for (const line of split) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
      spec.onLine?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const stopSignal = spec.stopSignal ?? 'SIGTERM';
  const stopTimeoutMs = spec.stopTimeoutMs ?? 15_000;
  let settled = false;
  const died = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(fail(`could not run it: ${err.message}`)));
    child.once('exit', (code, signal) => {
      if (partial.trim() !== '') lines.push(partial);
      if (!settled) reject(fail(`it exited during start-up (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    });
  });
  const ready = (async () => {
    for (;;) {
      if (await spec.ready(ports).catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, spec.probeIntervalMs ?? 200));
      if (settled) return;
    }
  })();
  try {
    await withDeadline('readiness', spec.timeoutMs, Promise.race([ready, died]));
  } catch (err) {
    settled = true;
    await terminate(child, 'SIGKILL', 5_000);
    if (err instanceof DeadlineError) throw fail(`it was not ready within ${formatMs(spec.timeoutMs)}`);
    throw err;
  } finally {
    settled = true;
  }
  return {
    name: spec.name,
    ports,
    pid: child.pid as number,
    commandLine,
    recentOutput: () => [...lines],
    stop: () => terminate(child, stopSignal, stopTimeoutMs),
    kill: () => terminate(child, 'SIGKILL', 5_000),
  };
}

export async function startService<K extends string>(spec: ServiceSpec<K>): Promise<RunningService<K>> {
  const attempts = spec.attempts ?? 2;
  for (let number = 1; ; number++) {
    const ports = await resolvePorts(spec);
    try {
      return await attempt(spec, ports, number);
    } catch (err) {
      if (!(err instanceof ServiceStartError) || number >= attempts) throw err;
      spec.onRetry?.(err);
    }
  }
}
