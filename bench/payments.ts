import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createDb, migrateLatest } from '../src/db/knex';
import { startDevServer } from '../src/dev/temporal';
import { createLedger } from '../src/ledger/service';
import { Tally, type Measurement } from './measure';
import { benchPostgres, benchStartupTimeoutMs } from './postgres';
import { CpuAccount } from './process-cpu';
import { KINDS, START_MODES, type Answered, type MoneyKind, baselineRun, benchStack, directRun, httpRun, startModeRun, stepTimings } from './payments-setup';

/**
 * `npm run bench:payments`: finflow's money workflows against the minimum a workflow
 * costs, on one worker, one client and one Temporal dev server, in one run.
 *
 *   workflows   empty workflow (start → result) and one no-op activity: the baselines;
 *               payBillV3 (what the API starts), payCard, walletFunding, customerTransfer,
 *               payBillV2 and payBill (the sagas before it) started and awaited directly
 *               (BENCH_CLIENTS concurrent, default 16): completed/s, ratio to empty, and
               the CPU milliseconds per workflow of the server, PostgreSQL and the worker
 *   HTTP API    POST /v1/payments, /v1/accounts/{card}/payments, /v1/wallet/fund,
 *               /v1/transfers through the real Koa app (JWT auth, Idempotency-Key)
 *               until the resource's final status: p50/p99 with 1 client and with 16
 *   start modes a bill payment started and awaited with 1 client: payBillV2 as the API
 *               started it before (start, then result); payBillV3 that way, with
 *               update-with-start (the API's way now) and eagerly on the worker's connection
 *
 * Scenarios run in interleaved rounds, so a shared machine's drift weighs on all alike.
 * Settings: BENCH_PAYMENTS (workflows per direct scenario, default 160), BENCH_HTTP_CALLS
 * (requests per HTTP scenario with 16 clients, default 96; a quarter of it with one
 * client), BENCH_ROUNDS (default 4). Goals (docs/performance.md): payBill ≥ 1/3 of the
 * empty workflow's rate; a bill payment's p50 through the API with one client < 250 ms.
 */

const CALLS = Number(process.env.BENCH_PAYMENTS ?? 160);
const HTTP_CALLS = Number(process.env.BENCH_HTTP_CALLS ?? 96);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const RATE_GOAL = 1 / 3;
const LATENCY_GOAL_MS = 250;

/** Activities and local activities (markers) one run of a workflow type scheduled. */
async function shapeOf(client: Client, type: string): Promise<{ activities: number; localActivities: number }> {
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${type}'`, pageSize: 1 })) {
    const events = (await client.workflow.getHandle(execution.workflowId).fetchHistory()).events ?? [];
    return {
      activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
      localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    };
  }
  throw new Error(`no ${type} workflow ran`);
}

const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(40) : c.padStart(10))).join(' ');

function workflowTable(empty: Measurement, rows: Measurement[]) {
  console.log(line(['workflow (direct, 16 clients)', 'completed', 'wf/s', 'p50 ms', 'p99 ms', '× empty', 'rounds wf/s']));
  return rows.map((r) => {
    const ratioToEmpty = r.opsPerSecond / empty.opsPerSecond;
    const rounds = r.roundsOpsPerSecond.map((x) => x.toFixed(1)).join(' ');
    console.log(`${line([r.name, String(r.ops), r.opsPerSecond.toFixed(1), r.p50Ms.toFixed(0), r.p99Ms.toFixed(0), ratioToEmpty.toFixed(2)])}   ${rounds}`);
    return { ...r, ratioToEmpty };
  });
}

/** Where each workflow's CPU went: the Temporal server, PostgreSQL, and this process (the worker and the clients). */
function cpuTable(rows: ReturnType<CpuAccount['perOperation']>) {
  console.log(line(['CPU per workflow (ms)', 'server', 'PostgreSQL', 'worker', 'total']));
  for (const r of rows) console.log(line([r.name, r.temporalMs.toFixed(1), r.postgresMs.toFixed(1), r.selfMs.toFixed(1), r.totalMs.toFixed(1)]));
  return rows;
}

function httpTable(rows: Measurement[], title = 'through the HTTP API') {
  console.log(line([title, 'requests', 'req/s', 'p50 ms', 'p99 ms']));
  for (const r of rows) console.log(line([r.name, String(r.ops), r.opsPerSecond.toFixed(1), r.p50Ms.toFixed(0), r.p99Ms.toFixed(0)]));
  return rows;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const timeoutMs = benchStartupTimeoutMs();
  const [pg, temporal] = await Promise.all([benchPostgres('finflow_bench_payments'), startDevServer({ timeoutMs })]);
  const db = createDb({ database: { url: pg.url, poolMax: 20, embeddedPort: 0 }, dependencyTimeoutMs: 10_000 });
  try {
    await migrateLatest(db);
    const stack = await benchStack(db, temporal);
    const failures: string[] = [];
    const summary = await stack.worker.runUntil(async () => {
      const empty = new Tally('empty workflow (baseline)');
      const oneActivity = new Tally('1 activity (baseline)');
      // payBillV3, which the API starts now, beside payBillV2 (what it started before) and
      // payBill (one activity per step): before and after in one run.
      const billKind = KINDS[0] as MoneyKind;
      const directKinds: MoneyKind[] = [...KINDS, { ...billKind, workflowType: 'payBillV2' }, { ...billKind, workflowType: 'payBill' }];
      const direct = directKinds.map((kind) => ({ tally: new Tally(`${kind.workflowType}`), run: directRun(stack, kind, failures) }));
      const starts = START_MODES.map((way) => ({ tally: new Tally(`${way.workflowType}: ${way.mode}`), run: startModeRun(stack, way, failures) }));
      // The bill payments made with one client, to see where their time goes.
      const oneClientBills: Answered[] = [];
      const http = KINDS.flatMap((kind) => [
        { tally: new Tally(`${kind.name}, 1 client`), clients: 1, calls: Math.max(1, Math.round(HTTP_CALLS / 4)), run: httpRun(stack, kind, failures, kind === KINDS[0] ? oneClientBills : undefined) },
        { tally: new Tally(`${kind.name}, ${CLIENTS} clients`), clients: CLIENTS, calls: HTTP_CALLS, run: httpRun(stack, kind, failures) },
      ]);
      const emptyRun = baselineRun(stack, 'emptyWorkflow');
      const oneActivityRun = baselineRun(stack, 'oneActivityWorkflow');
      // Warm-up: every code path once under load, so no round pays for a first compile.
      await new Tally('warm-up').round(CLIENTS, 2 * CLIENTS, emptyRun);
      for (const { run } of direct) await new Tally('warm-up').round(CLIENTS, CLIENTS, run);
      for (const { run } of [...http, ...starts]) await new Tally('warm-up').round(4, 4, run);
      oneClientBills.length = 0;
      const dataDirectory = (await db.raw<{ rows: Array<{ data_directory: string }> }>('show data_directory')).rows[0]?.data_directory ?? '';
      const cpu = new CpuAccount({ postgresDataDirectory: dataDirectory, temporalAddress: temporal.address });
      const measured = (tally: Tally, run: (call: number) => Promise<void>) => cpu.measure(tally.name, CALLS / ROUNDS, () => tally.round(CLIENTS, CALLS / ROUNDS, run));
      for (let round = 0; round < ROUNDS; round++) {
        await measured(empty, emptyRun);
        await measured(oneActivity, oneActivityRun);
        for (const { tally, run } of direct) await measured(tally, run);
        for (const { tally, clients, calls, run } of http) await tally.round(clients, Math.max(1, Math.round(calls / ROUNDS)), run);
        for (const { tally, run } of starts) await tally.round(1, Math.max(1, Math.round(HTTP_CALLS / 4 / ROUNDS)), run);
      }
      const emptyResult = empty.result();
      const workflows = workflowTable(emptyResult, [emptyResult, oneActivity.result(), ...direct.map(({ tally }) => tally.result())]);
      console.log();
      const cpuPerWorkflow = cpuTable(cpu.perOperation());
      console.log();
      const api = httpTable(http.map(({ tally }) => tally.result()));
      console.log();
      const startModes = httpTable(starts.map(({ tally }) => tally.result()), 'starting a bill payment, 1 client');
      const timings = await stepTimings(db, oneClientBills);
      console.log('\nbill payment through the API, 1 client: median ms from the row to');
      for (const { mark, medianMs } of timings) console.log(`  ${mark.padEnd(28)} ${medianMs.toFixed(0).padStart(6)}`);
      const shapes = Object.fromEntries(await Promise.all(directKinds.map(async (k) => [k.workflowType, await shapeOf(stack.client, k.workflowType)] as const)));
      return { workflows, cpuPerWorkflow, api, startModes, billStepTimings: timings, shapes };
    });
    await stack.close();
    console.log(`\nactivities per workflow: ${JSON.stringify(summary.shapes)}`);
    const byName = (rows: Measurement[], name: string) => rows.find((r) => r.name === name) as Measurement;
    const payBillRatio = byName(summary.workflows, 'payBillV3').opsPerSecond / byName(summary.workflows, 'empty workflow (baseline)').opsPerSecond;
    const billP50Ms = byName(summary.api, 'bill payment, 1 client').p50Ms;
    const goals = { payBillAtLeastAThirdOfEmpty: payBillRatio >= RATE_GOAL, billP50Under250MsWithOneClient: billP50Ms < LATENCY_GOAL_MS };
    console.log(`goal payBill ≥ 1/3 of empty: ${payBillRatio.toFixed(2)} ${goals.payBillAtLeastAThirdOfEmpty ? 'met' : 'MISSED'}`);
    console.log(`goal bill payment p50 through the API, 1 client < ${LATENCY_GOAL_MS} ms: ${billP50Ms.toFixed(0)} ms ${goals.billP50Under250MsWithOneClient ? 'met' : 'MISSED'}`);
    const balanced = (await createLedger(db).trialBalance()).every((t) => t.posted.differenceMinor === 0n && t.pending.differenceMinor === 0n);
    if (!balanced) throw new Error('trial balance is off after the bench');

    const file = join(__dirname, 'results', `payments-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL), temporal: 'dev server (in-memory)' };
    const settings = { clients: CLIENTS, workflowsPerScenario: CALLS, httpCalls: HTTP_CALLS, rounds: ROUNDS };
    await writeFile(file, JSON.stringify({ bench: 'payments', at: new Date().toISOString(), environment, settings, ...summary, payBillRatio, goals, failures }, null, 2));
    console.log(`wrote ${file}`);
    // Figures with failed requests among them are kept (with the failures) but not trusted.
    if (failures.length > 0) throw new Error(`${failures.length} requests did not succeed, e.g. ${failures[0]}`);
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
