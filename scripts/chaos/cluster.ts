import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from '../../src/config';
import { createDb, migrateLatest, type Db } from '../../src/db/knex';
import { freePort } from '../../src/dev/ports';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/dev/postgres';
import { startService, type RunningService } from '../../src/dev/service';
import { startDevServer } from '../../src/dev/temporal';
import { startLocalS3, type LocalS3Handle } from '../../src/dev/versitygw';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { createS3Storage } from '../../src/providers/storage/s3';
import { PROJECT_ROOT } from '../../src/paths';
import { createClient, ensureSearchAttributes } from '../../src/temporal/client';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker';
import type { Client } from '@temporalio/client';

/**
 * The chaos run's cluster: PostgreSQL and the Temporal dev server (SQLite) on ports fixed
 * for the whole run, so a restarted server keeps its address; one workflow bundle written
 * to a file; and the worker and API processes, each a separate OS process in its own
 * process group (src/dev/service.ts), started as production starts them: the production
 * entry points (src/worker/main.ts, src/api/main.ts) compiled by tsc, and an explicit
 * production environment.
 */

export type ProcessKind = 'worker' | 'api';

export interface ClusterOptions {
  workers: number;
  apis: number;
  /** Where the processes' output goes, one file per kind. */
  onLog?: (kind: ProcessKind, index: number, line: string) => void;
}

interface Slot {
  kind: ProcessKind;
  index: number;
  running?: RunningService<string>;
  /** Set while a restart is under way, so a fault waits for it rather than racing it. */
  restarting?: Promise<void>;
}

const TIMEOUT_MS = 120_000;

/**
 * Compiles the processes' code as the image does (tsc -p tsconfig.build.json, then the
 * YAML the code reads beside it), into `outDir`, a folder inside the project so that its
 * node_modules resolve. A compiled process starts in half the CPU time of one run through
 * tsx; with hundreds of restarts a run, that CPU is the machine's.
 */
async function compile(outDir: string): Promise<void> {
  const run = promisify(execFile);
  await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(PROJECT_ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: PROJECT_ROOT });
  await run(process.execPath, [join(PROJECT_ROOT, 'scripts', 'copy-assets.js'), outDir]);
}

/** The chaos processes' own secrets: production mode refuses the development ones. */
function productionEnv(databaseUrl: string, temporalAddress: string, bundlePath: string, s3: LocalS3Handle): NodeJS.ProcessEnv {
  const codecKey = `chaos:${randomBytes(32).toString('base64')}`;
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '8',
    TEMPORAL_ADDRESS: temporalAddress,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    PAYLOAD_CODEC_KEYS: codecKey,
    JWT_SECRET: randomBytes(32).toString('hex'),
    SERVICE_TOKEN: randomBytes(24).toString('hex'),
    // The run's customers are the sandbox's: test tokens and scripted biller references.
    ALLOW_SANDBOX_PROVIDERS: 'true',
    // The fault schedule makes the sandboxes slow, fail or time out through the sandbox_faults table.
    SANDBOX_FAULTS: 'true',
    // Statements, invoices and partner files live on a local S3 server that checks signatures.
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    S3_BUCKET: 'finflow-chaos',
    ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    // Every simulated customer comes from 127.0.0.1: the abuse limits would refuse the load.
    ...Object.fromEntries(
      ['SIGNUP_LIMIT_PER_ADDRESS', 'SIGNUP_LIMIT_PER_EMAIL', 'VERIFICATION_LIMIT_PER_ADDRESS', 'VERIFICATION_LIMIT_PER_TARGET', 'LOOKUP_LIMIT_PER_ADDRESS', 'LOOKUP_LIMIT_PER_TARGET'].map((n) => [n, '100000000']),
    ),
    LIMITS: 'USD.funding.per_transaction=500000,USD.funding.daily=900000000000,USD.transfer.per_transaction=250000,USD.transfer.daily=900000000000,USD.payment.per_transaction=1000000,USD.payment.daily=900000000000',
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
  };
}

export class Cluster {
  readonly slots: Slot[] = [];
  config!: Config;
  db!: Db;
  client!: Client;
  apiUrls: string[] = [];
  private env!: NodeJS.ProcessEnv;
  private dir!: string;
  /** The compiled code the processes run (see compile). */
  private buildDir?: string;
  private pg?: EmbeddedPostgresHandle;
  private s3?: LocalS3Handle;
  /** The bucket the processes store in, for the checks. */
  storage!: ObjectStorage;
  private pgPort = 0;
  private temporal?: TestWorkflowEnvironment;
  private temporalPort = 0;
  private apiPorts: number[] = [];
  private logs = new Map<string, WriteStream>();
  private stopped = false;
  /** How long each restart after a kill took, until the process was ready again. */
  readonly restartMs: number[] = [];

  constructor(private readonly options: ClusterOptions) {}

  get dataDir(): string {
    return this.dir;
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'finflow-chaos-'));
    await chmod(this.dir, 0o755);
    [this.pgPort, this.temporalPort] = [await freePort(), await freePort()];
    const bundlePath = join(this.dir, 'workflow-bundle.js');
    this.buildDir = join(PROJECT_ROOT, '.data', 'chaos-build', basename(this.dir));
    const [, , , { code }, s3] = await Promise.all([
      compile(this.buildDir),
      this.startPostgres(),
      this.startTemporal(),
      bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
      startLocalS3({ dataDir: join(this.dir, 's3'), accessKeyId: 'finflow-chaos', secretAccessKey: randomBytes(16).toString('hex'), timeoutMs: TIMEOUT_MS }),
    ]);
    this.s3 = s3;
    await writeFile(bundlePath, code);
    this.env = productionEnv((this.pg as EmbeddedPostgresHandle).url, `127.0.0.1:${this.temporalPort}`, bundlePath, s3);
    // The harness reads with the same configuration the processes run on.
    this.config = loadConfig(this.env);
    this.db = createDb(this.config);
    await migrateLatest(this.db);
    this.storage = createS3Storage(this.config.storage);
    await this.storage.ensureBucket();
    this.client = createClient(this.config.temporal);
    await ensureSearchAttributes(this.client, this.config.temporal.namespace);
    for (let i = 0; i < this.options.apis; i++) this.apiPorts.push(await freePort());
    this.apiUrls = this.apiPorts.map((port) => `http://127.0.0.1:${port}`);
    for (let i = 0; i < this.options.workers; i++) this.slots.push({ kind: 'worker', index: i });
    for (let i = 0; i < this.options.apis; i++) this.slots.push({ kind: 'api', index: i });
    await Promise.all(this.slots.map((slot) => this.startSlot(slot)));
  }

  /** Every process's log so far (one file per worker or API slot). */
  get logFiles(): string[] {
    return [...this.logs.keys()].map((name) => join(this.dir, `${name}.log`));
  }

  get serviceToken(): string {
    return this.config.auth.serviceToken;
  }

  slot(kind: ProcessKind, index: number): Slot {
    const slot = this.slots.find((s) => s.kind === kind && s.index === index);
    if (!slot) throw new Error(`no ${kind} ${index}`);
    return slot;
  }

  /**
   * SIGKILL to the process group, as a crash or an OOM kill would; resolves once it is
   * dead, and the process starts again in the background. Kills of one process queue
   * behind its restart, so a slot never runs two processes; `skip` drops a queued kill.
   */
  kill(kind: ProcessKind, index: number, skip: () => boolean = () => false): Promise<boolean> {
    const slot = this.slot(kind, index);
    // A kill still queued when the run stops is dropped: the load is over.
    const killed = (slot.restarting ?? Promise.resolve()).then(async () => {
      if (skip()) return false;
      const running = slot.running;
      slot.running = undefined;
      await running?.kill();
      return true;
    });
    const restarted = killed.then(async (done) => {
      if (!done) return;
      const started = Date.now();
      await this.startSlot(slot);
      this.restartMs.push(Date.now() - started);
    });
    slot.restarting = restarted.catch(() => undefined);
    return killed;
  }

  /** The worker whose process has this pid (a worker's Temporal identity is `<pid>@<host>`). */
  workerByPid(pid: number): number | undefined {
    return this.slots.find((s) => s.kind === 'worker' && s.running?.pid === pid)?.index;
  }

  /** PostgreSQL's fast shutdown (every connection dropped), then a start on the same data and port. */
  async restartPostgres(): Promise<void> {
    await this.pg?.stop();
    this.pg = undefined;
    await this.startPostgres();
  }

  /** The Temporal dev server stopped and started again on its SQLite file and port. */
  async restartTemporal(): Promise<void> {
    await this.temporal?.teardown();
    this.temporal = undefined;
    await this.startTemporal();
  }

  /** Every process running again (restarts finished, and any process that died on its own started again). */
  async heal(): Promise<number> {
    let revived = 0;
    for (const slot of this.slots) {
      await slot.restarting;
      if (!slot.running || !alive(slot.running.pid)) {
        revived += 1;
        slot.running = undefined;
        await this.startSlot(slot);
      }
    }
    return revived;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.slots.map(async (slot) => {
      await slot.restarting?.catch(() => undefined);
      await slot.running?.kill();
    }));
    await this.client?.connection.close().catch(() => undefined);
    await this.db?.destroy().catch(() => undefined);
    await this.temporal?.teardown().catch(() => undefined);
    await this.pg?.stop().catch(() => undefined);
    await this.s3?.stop().catch(() => undefined);
    for (const log of this.logs.values()) log.end();
    if (this.buildDir) await rm(this.buildDir, { recursive: true, force: true });
    if (this.dir && !process.env.CHAOS_KEEP_DATA) await rm(this.dir, { recursive: true, force: true });
  }

  private async startPostgres(): Promise<void> {
    this.pg = await startEmbeddedPostgres({ dataDir: join(this.dir, 'postgres'), port: this.pgPort, database: 'finflow', timeoutMs: TIMEOUT_MS });
  }

  private async startTemporal(): Promise<void> {
    this.temporal = await startDevServer({ port: this.temporalPort, dbFilename: join(this.dir, 'temporal.sqlite'), timeoutMs: TIMEOUT_MS });
  }

  private log(slot: Slot): WriteStream {
    const name = `${slot.kind}-${slot.index}`;
    let stream = this.logs.get(name);
    if (!stream) {
      stream = createWriteStream(join(this.dir, `${name}.log`), { flags: 'a' });
      this.logs.set(name, stream);
    }
    return stream;
  }

  /**
   * Starts the slot's process, trying again while a server it needs is down (a fault may
   * have restarted PostgreSQL or Temporal meanwhile).
   */
  private async startSlot(slot: Slot): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return;
      try {
        slot.running = await this.spawn(slot);
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async spawn(slot: Slot): Promise<RunningService<string>> {
    const log = this.log(slot);
    let started = false;
    const port = slot.kind === 'api' ? this.apiPorts[slot.index] : undefined;
    // Each worker serves its own Prometheus endpoint; on one machine each needs its own port.
    const metricsPort = slot.kind === 'worker' ? await freePort() : undefined;
    return startService({
      name: `${slot.kind} ${slot.index}`,
      ports: {},
      command: process.execPath,
      args: () => [join(this.buildDir as string, 'src', slot.kind === 'worker' ? 'worker' : 'api', 'main.js')],
      cwd: PROJECT_ROOT,
      // The worker says "worker started" at info; the API's request logs stay quiet.
      env: { ...this.env, ...(port ? { PORT: String(port) } : { LOG_LEVEL: 'info', WORKER_METRICS_PORT: String(metricsPort) }) },
      ready: async () => {
        if (slot.kind === 'worker') return started;
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
        return res.ok;
      },
      onLine: (line) => {
        if (line.includes('worker started')) started = true;
        log.write(`${line}\n`);
        this.options.onLog?.(slot.kind, slot.index, line);
      },
      timeoutMs: TIMEOUT_MS,
      attempts: 1,
      probeIntervalMs: 100,
    });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
