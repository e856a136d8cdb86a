import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities } from '../src/activities';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest, type Db } from '../src/db/knex';
import { startDevServer } from '../src/dev/temporal';
import { accountIdFrom } from '../src/ledger/ids';
import { createLedger } from '../src/ledger/service';
import { paymentIdFrom } from '../src/payments/repository';
import { workflowIds } from '../src/temporal/names';
import { createPorts } from '../src/worker/deps';
import type { PayBillInput } from '../src/workflows/payments/contract';
import { Tally, type Measurement } from './measure';
import { withDeadline } from '../src/dev/deadline';
import { benchPostgres, benchStartupTimeoutMs } from './postgres';

/**
 * `npm run bench:payments`: bill payments completed per second, end to end (client
 * start → workflow result) with the sandbox biller, PostgreSQL (embedded, or
 * DATABASE_URL) and the Temporal dev server, against a baseline run in the same
 * process on the same server and worker: `noopPayment`, payBill's shape with every
 * activity a no-op. The ratio is what finflow's own work (ledger, steps, cashback,
 * alerts) costs on top of Temporal's. The two are measured in interleaved rounds, so
 * that a shared machine's drift hits both alike.
 *
 * Settings: BENCH_PAYMENTS (workflows of each kind, default 320), BENCH_ROUNDS (default
 * 4), BENCH_CLIENTS (concurrent workflows, default 16). Target: payments ≥ 50 % of the
 * baseline.
 */

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 320);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const WARMUP = 2 * CLIENTS;
const PAYERS = 64;
const TARGET = 0.5;
const TASK_QUEUE = 'bench-payments';
const BILLER = 'brightgrid-power';

/** The baseline's activities: nothing at all, regular and local. */
export function createBaselineActivities() {
  return {
    async noop(): Promise<void> {},
    async noopLocal(): Promise<void> {},
  };
}

/** Every workflow result and the worker's drain have a deadline, so a stuck run fails and says which. */
const WORKFLOW_TIMEOUT_MS = Number(process.env.BENCH_WORKFLOW_TIMEOUT_MS ?? 120_000);

/** Payers with funded wallets; payments go round-robin so no one account becomes the bottleneck. */
async function createPayers(db: Db): Promise<Array<{ userId: string; walletId: string }>> {
  const ledger = createLedger(db);
  const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
  const payers = [];
  for (let i = 0; i < PAYERS; i++) {
    const userId = randomUUID();
    await db('users').insert({ id: userId, email: `${userId}@bench.invalid`, password_hash: 'bench', name: 'Bench Payer', phone: '+14155550142', date_of_birth: '1990-01-01', role: 'customer' });
    const wallet = await ledger.openAccount({ id: accountIdFrom(`wallet:${userId}:USD`), ownerUserId: userId, type: 'wallet', currency: 'USD' });
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: wallet.id, amountMinor: 10n ** 12n, currency: 'USD', code: 'bank_deposit' });
    payers.push({ userId, walletId: wallet.id });
  }
  return payers;
}

function paymentRun(client: Client, payers: Array<{ userId: string; walletId: string }>, failures: string[]) {
  return async (call: number) => {
    const payer = payers[call % payers.length]!;
    const workflowId = workflowIds.payment(payer.userId, randomUUID());
    const input: PayBillInput = {
      paymentId: paymentIdFrom(workflowId),
      userId: payer.userId,
      billerId: BILLER,
      // Any last two digits but 00–04 script a plain acceptance on the sandbox biller.
      customerRef: `48201937${String(10 + (call % 90))}`,
      fromAccountId: payer.walletId,
      amountMinor: String(1_000 + (call % 5_000)),
      currency: 'USD',
    };
    const result = await withDeadline(`the result of payBill ${workflowId}`, WORKFLOW_TIMEOUT_MS, client.workflow.execute('payBill', { taskQueue: TASK_QUEUE, workflowId, args: [input] }));
    if ((result as { status: string }).status !== 'succeeded') failures.push(`${workflowId}: ${JSON.stringify(result)}`);
  };
}

function baselineRun(client: Client) {
  return async () => {
    const workflowId = `bench-noop:${randomUUID()}`;
    await withDeadline(`the result of noopPayment ${workflowId}`, WORKFLOW_TIMEOUT_MS, client.workflow.execute('noopPayment', { taskQueue: TASK_QUEUE, workflowId, args: [] }));
  };
}

/** Activities and local activities (markers) one run of each workflow scheduled, to show the baseline matches. */
async function shapeOf(client: Client, workflowId: string): Promise<{ activities: number; localActivities: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  return {
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
  };
}

async function lastWorkflowId(client: Client, type: string): Promise<string> {
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${type}'`, pageSize: 1 })) return execution.workflowId;
  throw new Error(`no ${type} workflow ran`);
}

function report(baseline: Measurement, payments: Measurement) {
  const rows = [baseline, payments].map((r) => ({ ...r, percentOfBaseline: (100 * r.opsPerSecond) / baseline.opsPerSecond }));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(10))).join(' ');
  console.log(line(['scenario', 'workflows', 'wf/s', 'p50 ms', 'p99 ms', '% baseline', 'rounds wf/s']));
  for (const r of rows) {
    const rounds = r.roundsOpsPerSecond.map((x) => x.toFixed(1)).join(' ');
    console.log(`${line([r.name, String(r.ops), r.opsPerSecond.toFixed(1), r.p50Ms.toFixed(0), r.p99Ms.toFixed(0), `${r.percentOfBaseline.toFixed(0)} %`])}   ${rounds}`);
  }
  const met = payments.opsPerSecond >= TARGET * baseline.opsPerSecond;
  console.log(`target: payBill ≥ 50 % of the baseline: ${met ? 'met' : 'MISSED'}`);
  return { baselineWorkflowsPerSecond: baseline.opsPerSecond, paymentsWorkflowsPerSecond: payments.opsPerSecond, rows, targetMet: met };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const timeoutMs = benchStartupTimeoutMs();
  const [pg, temporal] = await Promise.all([benchPostgres('finflow_bench_payments'), startDevServer({ timeoutMs })]);
  const db = createDb({ database: { url: pg.url, poolMax: 20, embeddedPort: 0 }, dependencyTimeoutMs: 10_000 });
  try {
    await migrateLatest(db);
    const payers = await createPayers(db);
    // The benchmark measures the sandboxes, named here explicitly rather than by default.
    const config = loadConfig({ NODE_ENV: 'development', SMS_PROVIDER: 'sandbox', FUNDING_PROVIDER: 'sandbox', BILLER_PROVIDER: 'sandbox' });
    const { sms: _sms, ...ports } = createPorts(config, { db });
    const deps = { db, ...ports, now: () => new Date() };
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('./payments-workflows'),
      activities: { ...createActivities(deps), ...createBaselineActivities() },
      shutdownGraceTime: '10s',
    });
    const { client } = temporal;
    const failures: string[] = [];
    const summary = await worker.runUntil(async () => {
      const pay = paymentRun(client, payers, failures);
      const noop = baselineRun(client);
      await new Tally('warm-up').round(CLIENTS, WARMUP, noop);
      await new Tally('warm-up').round(CLIENTS, WARMUP, pay);
      const baseline = new Tally('baseline: noopPayment (10 + 7 local no-ops)');
      const payments = new Tally('payBill (sandbox biller, PostgreSQL)');
      for (let round = 0; round < ROUNDS; round++) {
        await baseline.round(CLIENTS, PAYMENTS / ROUNDS, noop);
        await payments.round(CLIENTS, PAYMENTS / ROUNDS, pay);
      }
      const shapes = { payBill: await shapeOf(client, await lastWorkflowId(client, 'payBill')), noopPayment: await shapeOf(client, await lastWorkflowId(client, 'noopPayment')) };
      return { ...report(baseline.result(), payments.result()), shapes };
    });
    if (failures.length > 0) throw new Error(`${failures.length} payments did not succeed, e.g. ${failures[0]}`);
    console.log(`activities per workflow: payBill ${JSON.stringify(summary.shapes.payBill)}, noopPayment ${JSON.stringify(summary.shapes.noopPayment)}`);
    const balanced = (await createLedger(db).trialBalance()).every((t) => t.posted.differenceMinor === 0n && t.pending.differenceMinor === 0n);
    if (!balanced) throw new Error('trial balance is off after the bench');

    const file = join(__dirname, 'results', `payments-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL), temporal: 'dev server (in-memory)' };
    await writeFile(file, JSON.stringify({ bench: 'payments', at: new Date().toISOString(), environment, clients: CLIENTS, workflowsPerScenario: PAYMENTS, rounds: ROUNDS, payers: PAYERS, ...summary }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    await db.destroy();
    await temporal.teardown();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  // Exit now: a service that failed half-way may still hold the event loop open.
  process.exit(1);
});
