import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { renderStatementPdf, type StatementDocument } from '../src/activities/banking/statement-pdf';
import { lineDescription } from '../src/activities/banking/statements';
import { type Db } from '../src/db/knex';
import { withDeadline } from '../src/dev/deadline';
import { startDevServer } from '../src/dev/temporal';
import { transferIdFrom } from '../src/ledger/ids';
import { createLedger } from '../src/ledger/service';
import type { TransferInput } from '../src/ledger/types';
import { maskAccount } from '../src/money/money';
import { workflowIds } from '../src/temporal/names';
import { type createPorts } from '../src/worker/deps';
import { statementCyclesProgressQuery, type StatementCyclesWorkflow, type StatementInput } from '../src/workflows/banking/contract';
import { Tally, type Measurement } from './measure';
import { storageStack } from './storage-stack';

/**
 * `npm run bench:statements`:
 *
 * 1. Statements per second, each of BENCH_STATEMENT_LINES (default 500) transactions:
 *    read from the ledger, rendered, encrypted (AES-256) and stored on the local S3
 *    server (versitygw) by the statement activity, against pdfkit rendering the same
 *    pages alone (unencrypted, no ledger, no storage), in interleaved rounds; then the
 *    mean time of each step of one statement, measured alone.
 * 2. The month-end statement run (statementCycles on the month's last day) over
 *    BENCH_MONTHLY_ACCOUNTS (default 10,000) active accounts on the Temporal dev server,
 *    the worker in this process: wall time and the largest workflow history in events.
 *
 * Settings: BENCH_STATEMENTS (default 24), BENCH_ROUNDS (3), BENCH_CLIENTS (2),
 * BENCH_MONTHLY_ACCOUNTS (10000; 0 skips part 2), BENCH_WINDOW (statements at once, 50).
 */

const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 24);
const LINES = Number(process.env.BENCH_STATEMENT_LINES ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 2);
const MONTHLY_ACCOUNTS = Number(process.env.BENCH_MONTHLY_ACCOUNTS ?? 10_000);
const TASK_QUEUE = 'bench-statements';
const BATCH = 5_000;
const OPENING = 50;
const WINDOW = Number(process.env.BENCH_WINDOW ?? 50);

async function insertCustomer(db: Db): Promise<string> {
  const id = randomUUID();
  await db('users').insert({ id, email: `${id}@bench.invalid`, password_hash: 'bench', name: 'Bench Holder', phone: '+14155550142', date_of_birth: '1990-01-01', role: 'customer' });
  return id;
}

/** `accounts` wallets of one customer, each with `lines` posted transfers (deposits and purchases). */
async function accountsWithLines(db: Db, accounts: number, lines: number): Promise<Array<{ userId: string; accountId: string }>> {
  const ledger = createLedger(db);
  const clearing = await ledger.systemAccountId('funding_clearing', 'USD');
  const userId = await insertCustomer(db);
  const opened: Array<{ userId: string; accountId: string }> = [];
  let pending: TransferInput[] = [];
  const flush = async () => {
    if (pending.length > 0) await ledger.createTransfers(pending);
    pending = [];
  };
  // Accounts open OPENING at a time (one insert each); their transfers go in batches of BATCH.
  for (let first = 0; first < accounts; first += OPENING) {
    const wallets = await Promise.all(Array.from({ length: Math.min(OPENING, accounts - first) }, () => ledger.openAccount({ ownerUserId: userId, type: 'wallet', currency: 'USD' })));
    opened.push(...wallets.map((account) => ({ userId, accountId: account.id })));
  }
  for (const account of opened) {
    for (let i = 0; i < lines; i++) {
      const credit = i % 4 === 0;
      pending.push({
        id: randomUUID(),
        debitAccountId: credit ? clearing : account.accountId,
        creditAccountId: credit ? account.accountId : clearing,
        amountMinor: credit ? 100_000n : BigInt(100 + (i % 50)),
        currency: 'USD',
        code: credit ? 'bank_deposit' : 'card_purchase',
        metadata: { description: credit ? 'Salary' : `Shop #${i}` },
      });
      if (pending.length >= BATCH) await flush();
    }
  }
  await flush();
  return opened;
}

function table(rows: Measurement[]): void {
  console.table(rows.map((m) => ({ scenario: m.name, 'statements/s': m.opsPerSecond.toFixed(2), 'p50 ms': m.p50Ms.toFixed(0), 'p99 ms': m.p99Ms.toFixed(0), rounds: m.roundsOpsPerSecond.map((r) => r.toFixed(2)).join(' ') })));
}

async function main(): Promise<void> {
  const { db, ports: { sms: _sms, ...ports }, timeoutMs, stop } = await storageStack({ name: 'statements', poolMax: 20, dependencyTimeoutMs: 10_000 });
  try {
    const activities = createActivities({ db, ...ports, now: () => new Date() });

    // Part 1: the statement activity against pdfkit alone.
    const accounts = await accountsWithLines(db, STATEMENTS, LINES);
    const slice = await createLedger(db).statementSlice(accounts[0]!.accountId, { lastN: LINES, asOf: new Date() });
    const document: StatementDocument = {
      holderName: 'Bench Holder',
      accountLabel: 'Wallet',
      maskedAccountNumber: maskAccount(accounts[0]!.accountId),
      currency: 'USD',
      periodFrom: slice.periodFrom,
      periodTo: slice.periodTo,
      openingBalanceMinor: slice.openingBalanceMinor,
      closingBalanceMinor: slice.closingBalanceMinor,
      lines: slice.lines.map((l) => ({ postedAt: l.transfer.createdAt, description: lineDescription(l.transfer), debitMinor: l.direction === 'debit' ? l.transfer.amountMinor : 0n, creditMinor: l.direction === 'credit' ? l.transfer.amountMinor : 0n, balanceAfterMinor: l.balanceAfterMinor })),
      generatedAt: new Date(),
    };
    const statementOf = async (call: number) => {
      const { userId, accountId } = accounts[call % accounts.length]!;
      const workflowId = workflowIds.statement(userId, randomUUID());
      const period = { lastN: LINES, asOf: new Date().toISOString() };
      const input: StatementInput = { statementId: transferIdFrom(workflowId), userId, accountId, source: 'api', period };
      await activities.openStatement({ ...input, workflowId });
      await activities.renderStatement({ statementId: input.statementId, period });
    };
    const pdfkitAlone = async () => {
      await renderStatementPdf(document, undefined);
    };
    await new Tally('warm-up').round(CLIENTS, CLIENTS, statementOf);
    const full = new Tally(`statement: ledger → pdfkit → AES-256 → S3 (${LINES} lines)`);
    const baseline = new Tally(`pdfkit alone, same pages (${LINES} lines)`);
    for (let round = 0; round < ROUNDS; round++) {
      await baseline.round(CLIENTS, Math.ceil(STATEMENTS / ROUNDS), pdfkitAlone);
      await full.round(CLIENTS, Math.ceil(STATEMENTS / ROUNDS), statementOf);
    }
    const rows = [baseline.result(), full.result()];
    table(rows);
    const ratio = rows[1]!.opsPerSecond / rows[0]!.opsPerSecond;
    console.log(`statements run at ${(ratio * 100).toFixed(0)} % of pdfkit's own rate`);

    // Part 1b: where one statement's time goes, step by step, one at a time.
    const steps = await breakdown(db, activities, ports.storage, accounts, document);
    console.table(steps);

    // Part 2: the monthly run.
    let monthly: Record<string, unknown> | undefined;
    if (MONTHLY_ACCOUNTS > 0) monthly = await monthlyRun(db, timeoutMs, ports);
    const file = join(__dirname, 'results', `statements-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL), temporal: 'dev server (in-memory)', s3: 'versitygw (posix)' };
    await writeFile(file, JSON.stringify({ bench: 'statements', at: new Date().toISOString(), environment, lines: LINES, clients: CLIENTS, rows, ratio, steps, monthly }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    await stop();
  }
}

/**
 * The mean milliseconds of each step of a statement, measured alone and in turn (one
 * client), on the same document: the ledger read, pdfkit's rendering, what AES-256 adds
 * to it, the upload, the row writes and the link SMS (presign, outbox, sandbox SMS).
 */
async function breakdown(db: Db, activities: ReturnType<typeof createActivities>, storage: ReturnType<typeof createPorts>['storage'], accounts: Array<{ userId: string; accountId: string }>, document: StatementDocument) {
  const samples = Math.max(6, Math.ceil(STATEMENTS / 2));
  const ledger = createLedger(db);
  const totals = { 'ledger read': 0, 'pdfkit render': 0, 'AES-256 (encrypted render minus plain)': 0, 'S3 upload': 0, 'statement row writes': 0, 'link SMS': 0 };
  const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
    const started = process.hrtime.bigint();
    const result = await work();
    return [result, Number(process.hrtime.bigint() - started) / 1e6];
  };
  for (let i = 0; i < samples; i++) {
    const { userId, accountId } = accounts[i % accounts.length]!;
    const workflowId = workflowIds.statement(userId, randomUUID());
    const input: StatementInput = { statementId: transferIdFrom(workflowId), userId, accountId, source: 'api', period: { lastN: LINES, asOf: new Date().toISOString() } };
    totals['ledger read'] += (await timed(() => ledger.statementSlice(accountId, { lastN: LINES, asOf: new Date() })))[1];
    const [, plainMs] = await timed(() => renderStatementPdf(document, undefined));
    const [pdf, encryptedMs] = await timed(() => renderStatementPdf(document, '01011990'));
    totals['pdfkit render'] += plainMs;
    totals['AES-256 (encrypted render minus plain)'] += encryptedMs - plainMs;
    totals['S3 upload'] += (await timed(() => storage.put({ key: `bench/${input.statementId}.pdf`, body: pdf, contentType: 'application/pdf' })))[1];
    totals['statement row writes'] += (await timed(() => activities.openStatement({ ...input, workflowId })))[1];
    await activities.renderStatement({ statementId: input.statementId, period: input.period });
    totals['link SMS'] += (await timed(() => activities.sendStatementLink({ statementId: input.statementId, dedupeKey: `${workflowId}:link` })))[1];
    totals['statement row writes'] += (await timed(() => activities.recordStatementOutcome({ statementId: input.statementId, outcome: { status: 'ready' } })))[1];
  }
  return Object.entries(totals).map(([step, ms]) => ({ step, 'mean ms': Number((ms / samples).toFixed(1)) }));
}

async function monthlyRun(db: Db, timeoutMs: number, ports: Omit<ReturnType<typeof createPorts>, 'sms'>) {
  const temporal = await startDevServer({ timeoutMs });
  try {
    await accountsWithLines(db, MONTHLY_ACCOUNTS, 1);
    // The month's last day: every wallet with activity this month (these and part 1's) has its statement cut.
    const now = new Date();
    const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).toISOString().slice(0, 10);
    const month = date.slice(0, 7);
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../src/workflows'),
      activities: createActivities({ db, ...ports, now: () => new Date() }),
      shutdownGraceTime: '10s',
    });
    const workflowId = `bench-monthly-${randomUUID()}`;
    // The month's active accounts: these and part 1's.
    return await worker.runUntil(async () => {
      const started = process.hrtime.bigint();
      const handle = await temporal.client.workflow.start<StatementCyclesWorkflow>('statementCycles', { taskQueue: TASK_QUEUE, workflowId, args: [{ date, window: WINDOW }] });
      // Progress on the console every 30 s, so a run stopped early still shows its rate.
      const ticker = setInterval(() => {
        handle
          .query(statementCyclesProgressQuery)
          .then(({ done, total }) => console.log(`${((Number(process.hrtime.bigint() - started) / 1e9) | 0)} s: ${done}/${total}`))
          .catch(() => undefined);
      }, 30_000);
      const result = await withDeadline('the monthly run', 4 * 3600_000, handle.result()).finally(() => clearInterval(ticker));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Every run of the chain shares the workflow id; the largest history is the one that matters.
      let largest = 0;
      let runs = 0;
      for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        const history = await temporal.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
        largest = Math.max(largest, history.events?.length ?? 0);
        runs += 1;
      }
      const child = await temporal.client.workflow.getHandle(workflowIds.monthlyStatement((await db('statements').where({ month }).first('account_id')).account_id, month)).fetchHistory();
      const summary = { accounts: result.total, window: WINDOW, done: result.done, failed: result.failed, wallSeconds: seconds, statementsPerSecond: result.done / seconds, runs, largestRunHistoryEvents: largest, statementHistoryEvents: child.events?.length ?? 0 };
      console.table([summary]);
      return summary;
    });
  } finally {
    await temporal.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
