import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createUser } from '../../src/api/auth/service';
import type { AppContext } from '../../src/api/core/context';
import { createLedger } from '../../src/ledger/service';
import { PROJECT_ROOT } from '../../src/paths';
import { runChecks, inspectWorkflows, unsentMessages, type Violation } from './checks';
import { ChaosClient, type Answer, type Outcome, type RequestSpec } from './client';
import { Cluster } from './cluster';
import { faultSchedule, playFaults, type Fault, type FaultCounts } from './faults';
import { contactPhones, startChaosMailbox } from './fixtures';
import { OPERATIONS, signUpCustomer, type Issued, type LoadContext, type LoadState } from './operations';
import { Prng } from './prng';

/**
 * `npm run chaos -- [--minutes N] [--seed S] [--no-faults]`: the whole system as separate
 * processes under a seeded load, with a seeded schedule of kills and restarts, then the
 * invariants of checks.ts once it has settled. docs/reliability.md explains the run.
 */

export interface ChaosOptions {
  minutes: number;
  seed: number;
  faults: boolean;
  workers: number;
  apis: number;
  /** Concurrent simulated clients. */
  clients: number;
  /** Mean time between worker kills. */
  workerKillEveryMs: number;
  log?: (line: string) => void;
}

export interface RouteFigures {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  outcomes: Record<Outcome, number>;
}

export interface ChaosResult {
  seed: number;
  faults: boolean;
  startedAt: string;
  durationSeconds: number;
  settleSeconds: number;
  machine: { cpus: number };
  operations: Record<string, Record<Outcome, number>>;
  /** `workerMidActivity`: worker kills aimed at, and landing on, a worker holding a started activity. */
  kills: { worker: number; workerMidActivity: number; api: number };
  restarts: { worker: number; api: number; temporal: number; postgres: number; unplanned: number };
  /** Spells of slow, failing or timing-out sandbox providers, by mode. */
  providerFaults: Record<string, number>;
  routes: Record<string, RouteFigures>;
  /** Until a killed process was ready again: median and slowest. */
  restartSeconds: { p50: number; max: number };
  workflows: { total: number; runningAtEnd: Record<string, number>; activityRetriesAfterTimeout: number; workflowTaskTimeouts: number };
  violations: Violation[];
  file?: string;
}

const INITIAL_CUSTOMERS = 6;
/** Mailboxes the load can connect: one customer each. */
const MAILBOX_FOLDERS = 40;
/**
 * Settling gives up when nothing has finished for this long: longer than the provider
 * profile's longest retry interval (5 min, src/workflows/shared/activity-profiles.ts),
 * since a call that failed through many spells and restarts waits that long to try again.
 */
const STALL_MS = 6 * 60_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function routeFigures(answers: Array<{ route: string; answer: Answer }>, seconds: number): Record<string, RouteFigures> {
  const byRoute = new Map<string, Answer[]>();
  for (const { route, answer } of answers) byRoute.set(route, [...(byRoute.get(route) ?? []), answer]);
  return Object.fromEntries(
    [...byRoute.entries()].sort().map(([route, list]) => {
      const latencies = list.map((a) => a.latencyMs).sort((a, b) => a - b);
      const outcomes: Record<Outcome, number> = { succeeded: 0, failed: 0, unknown: 0 };
      for (const a of list) outcomes[a.outcome] += 1;
      return [route, { requests: list.length, perSecond: Number((list.length / seconds).toFixed(2)), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), outcomes }];
    }),
  );
}

/**
 * Waits until no request is still processing in PostgreSQL (every workflow done or parked
 * on a timer). A backlog left by the load drains at the workers' pace, so the wait lasts
 * while the count keeps falling, and ends when it has not fallen for STALL_MS.
 */
async function settle(cluster: Cluster, log: (line: string) => void): Promise<void> {
  let best = Number.POSITIVE_INFINITY;
  let lastProgress = Date.now();
  for (;;) {
    const revived = await cluster.heal();
    if (revived > 0) log(`settle: ${revived} processes started again`);
    const { rows } = await cluster.db.raw(`
      select (select count(*) from wallet_fundings where status = 'processing')
           + (select count(*) from customer_transfers where status = 'processing')
           + (select count(*) from bank_postings where status = 'processing')
           + (select count(*) from payments where status = 'processing')
           + (select count(*) from statements where status = 'processing')
           + (select count(*) from invoice_ingestions where status = 'processing')
           + (select count(*) from card_files where status in ('received', 'processing'))
           + (select count(*) from campaigns where status in ('planning', 'running')) as n`);
    // A request's row is decided before its messages go out: wait for those as well.
    const processing = Number(rows[0].n) + (Number(rows[0].n) === 0 ? (await unsentMessages(cluster.db)).length : 0);
    if (processing === 0) return;
    if (processing < best) {
      if (best !== Number.POSITIVE_INFINITY && Math.floor(best / 50) !== Math.floor(processing / 50)) log(`settle: ${processing} requests still processing`);
      best = processing;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress > STALL_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cluster = new Cluster({ workers: options.workers, apis: options.apis });
  const answers: Array<{ route: string; answer: Answer }> = [];
  const issued: Issued[] = [];
  const startedAt = new Date();
  const cleanups: Array<() => Promise<void>> = [];
  try {
    log(`chaos: seed ${options.seed}, ${options.minutes} min, faults ${options.faults ? 'on' : 'off'}, ${options.workers} workers, ${options.apis} APIs, ${options.clients} clients`);
    await cluster.start();
    log(`cluster up in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s (data in ${cluster.dataDir})`);
    let recording = false;
    const client = new ChaosClient({
      baseUrls: cluster.apiUrls,
      attemptTimeoutMs: 10_000,
      deadlineMs: 90_000,
      onAnswer: (spec: RequestSpec, answer: Answer) => {
        if (recording) answers.push({ route: `${spec.method} ${spec.route}`, answer });
      },
    });
    const mailbox = await startChaosMailbox(MAILBOX_FOLDERS, options.seed);
    cleanups.push(() => mailbox.imap.stop());
    const state: LoadState = { mailbox, mailboxOwners: new Set(), mailboxCustomers: [], cardFiles: [], nextContactPhone: contactPhones(options.seed) };
    const operatorToken = await signInOperator(cluster, client);
    const base = { client, temporal: cluster.client, db: cluster.db, serviceToken: cluster.serviceToken, operatorToken, state, customers: [] };
    const setupCtx: LoadContext = { ...base, prng: new Prng(options.seed) };
    while (setupCtx.customers.length < INITIAL_CUSTOMERS) {
      const customer = await signUpCustomer(setupCtx);
      if (!customer) continue;
      setupCtx.customers.push(customer);
      // Starting money, as the bank side's deposits.
      for (const accountId of [customer.walletId, customer.savingsId]) {
        const key = `${customer.userId}:${accountId}:opening`;
        const answer = await client.send({ method: 'POST', path: `/internal/v1/accounts/${accountId}/postings`, route: 'setup', token: cluster.serviceToken, idempotencyKey: key, body: { direction: 'credit', amount: '200000', currency: 'USD', code: 'deposit', description: 'chaos opening deposit' } });
        issued.push({ kind: 'bank_posting', outcome: answer.outcome, status: answer.status, workflowId: `posting:${key}` });
      }
    }
    log(`${INITIAL_CUSTOMERS} customers signed up and funded`);

    const durationMs = options.minutes * 60_000;
    const loadStarted = Date.now();
    recording = true;
    let stopping = false;
    const faults = options.faults ? faultSchedule(options.seed, { durationMs, workers: options.workers, apis: options.apis, workerKillEveryMs: options.workerKillEveryMs }) : [];
    if (options.faults) log(`fault schedule: ${faults.length} faults (${faults.filter((f) => f.kind === 'kill_worker').length} worker kills, ${faults.filter((f) => f.provider).length} slow-provider spells)`);
    const faultRun = playFaults(cluster, faults, loadStarted, () => stopping, (line) => log(`  fault ${line}`));
    const clients = Array.from({ length: options.clients }, async (_, i) => {
      const ctx: LoadContext = { ...base, customers: setupCtx.customers, prng: new Prng(options.seed + 7919 * (i + 1)) };
      while (Date.now() - loadStarted < durationMs) {
        const operation = ctx.prng.weighted(OPERATIONS);
        try {
          const result = await operation.issue(ctx);
          if (result) issued.push(result);
        } catch (err) {
          log(`  ${operation.name} threw: ${(err as Error).message}`);
        }
      }
    });
    const progress = setInterval(() => log(`  ${((Date.now() - loadStarted) / 1000).toFixed(0)} s: ${issued.length} operations`), 30_000);
    await Promise.all(clients);
    clearInterval(progress);
    stopping = true;
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    const counts: FaultCounts = await faultRun;
    recording = false;
    // The providers recover with the load's end: settling measures the system, not a spell.
    await cluster.db('sandbox_faults').del();

    log(`load done: ${issued.length} operations in ${loadSeconds.toFixed(0)} s; settling`);
    const settleStarted = Date.now();
    const unplanned = await cluster.heal();
    await settle(cluster, log);
    const settleSeconds = (Date.now() - settleStarted) / 1000;
    log(`settled in ${settleSeconds.toFixed(0)} s; checking`);

    const ctx = { db: cluster.db, temporal: cluster.client, issued, storage: cluster.storage, logFiles: cluster.logFiles };
    const workflows = await inspectWorkflows(ctx);
    const violations = await runChecks({ ...ctx, workflows });
    const operations: ChaosResult['operations'] = {};
    for (const i of issued) {
      operations[i.kind] ??= { succeeded: 0, failed: 0, unknown: 0 };
      (operations[i.kind] as Record<Outcome, number>)[i.outcome] += 1;
    }
    const result: ChaosResult = {
      seed: options.seed,
      faults: options.faults,
      startedAt: startedAt.toISOString(),
      durationSeconds: Math.round(loadSeconds),
      settleSeconds: Math.round(settleSeconds),
      machine: { cpus: cpus().length },
      operations,
      kills: { worker: counts.kill_worker, workerMidActivity: counts.kill_worker_mid_activity, api: counts.kill_api },
      restarts: { worker: counts.kill_worker, api: counts.kill_api, temporal: counts.restart_temporal, postgres: counts.restart_postgres, unplanned },
      providerFaults: providerFaultFigures(faults, counts),
      routes: routeFigures(answers, loadSeconds),
      restartSeconds: restartFigures(cluster.restartMs),
      workflows: { total: workflows.total, runningAtEnd: workflows.runningByType, activityRetriesAfterTimeout: workflows.activityRetriesAfterTimeout, workflowTaskTimeouts: workflows.workflowTaskTimeouts },
      violations,
    };
    result.file = await writeResult(result);
    return result;
  } finally {
    await cluster.stop();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

/** An operator (operators cannot sign up: created as the dev seed creates them), signed in through the API. */
async function signInOperator(cluster: Cluster, client: ChaosClient): Promise<string> {
  const details = { email: `operator-${randomUUID()}@chaos.example`, password: 'chaos operator passphrase', name: 'Chaos Operator', phone: '+14155550100', dateOfBirth: '1980-01-01' };
  const app = { config: cluster.config, deps: { db: cluster.db, ledger: createLedger(cluster.db), now: () => new Date() } } as unknown as AppContext;
  await createUser(app, details, 'operator');
  const login = await client.send<{ accessToken: string }>({ method: 'POST', path: '/v1/auth/login', route: 'setup', body: { email: details.email, password: details.password } });
  if (login.outcome !== 'succeeded') throw new Error(`the operator could not sign in: ${login.status}`);
  return login.body.accessToken;
}

/** Spells played, by mode (the schedule's, up to the number played). */
function providerFaultFigures(faults: Fault[], counts: FaultCounts): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const fault of faults.filter((f) => f.provider).slice(0, counts.slow_provider)) {
    const key = `${fault.provider?.provider} ${fault.provider?.mode}`;
    figures[key] = (figures[key] ?? 0) + 1;
  }
  return figures;
}

function restartFigures(ms: number[]): { p50: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: Number((percentile(sorted, 50) / 1000).toFixed(1)), max: Number(((sorted[sorted.length - 1] ?? 0) / 1000).toFixed(1)) };
}

async function writeResult(result: ChaosResult): Promise<string> {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `chaos-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function printResult(result: ChaosResult, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  log('');
  log(`operation            succeeded   failed  unknown`);
  for (const [kind, o] of Object.entries(result.operations)) log(`${kind.padEnd(20)} ${String(o.succeeded).padStart(9)} ${String(o.failed).padStart(8)} ${String(o.unknown).padStart(8)}`);
  log('');
  log(`route                                             req    req/s   p50 ms   p99 ms`);
  for (const [route, r] of Object.entries(result.routes)) {
    log(`${route.padEnd(48)} ${String(r.requests).padStart(5)} ${r.perSecond.toFixed(2).padStart(8)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)}`);
  }
  const total = Object.values(result.routes).reduce((sum, r) => sum + r.requests, 0);
  log(`all routes: ${total} requests, ${(total / Math.max(1, result.durationSeconds)).toFixed(2)} req/s sustained`);
  log('');
  log(`kills: ${JSON.stringify(result.kills)}; restarts: ${JSON.stringify(result.restarts)}, ready again in ${result.restartSeconds.p50} s (p50), ${result.restartSeconds.max} s (max)`);
  log(`slow providers: ${JSON.stringify(result.providerFaults)}`);
  log(`workflows: ${JSON.stringify(result.workflows)}`);
  if (result.violations.length === 0) {
    log(`seed ${result.seed}: every check held (${result.file})`);
  } else {
    const [first] = result.violations;
    log(`seed ${result.seed}: ${result.violations.length} violations; first: [${first?.check}] ${first?.detail}`);
    for (const v of result.violations.slice(0, 20)) log(`  [${v.check}] ${v.detail}`);
    log(`replay with: npm run chaos -- --seed ${result.seed} (${result.file})`);
  }
}

export function parseChaosArgs(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '10' },
      seed: { type: 'string' },
      'no-faults': { type: 'boolean', default: false },
      workers: { type: 'string', default: '3' },
      clients: { type: 'string', default: '4' },
      'kill-every': { type: 'string', default: '3.3' },
    },
  });
  return {
    minutes: Number(values.minutes),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed),
    faults: !values['no-faults'],
    workers: Number(values.workers),
    apis: 2,
    clients: Number(values.clients),
    workerKillEveryMs: Number(values['kill-every']) * 1000,
  };
}

if (require.main === module) {
  runChaos(parseChaosArgs(process.argv.slice(2)))
    .then((result) => {
      printResult(result);
      process.exit(result.violations.length === 0 ? 0 : 1);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
