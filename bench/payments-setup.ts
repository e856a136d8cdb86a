import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../src/activities';
import { createApp } from '../src/api/app';
import { signAccessToken } from '../src/api/core/access-tokens';
import { loadConfig, type Config } from '../src/config';
import type { Db } from '../src/db/knex';
import { withDeadline } from '../src/dev/deadline';
import { accountIdFrom, transferIdFrom } from '../src/ledger/ids';
import { createLedger } from '../src/ledger/service';
import { paymentIdFrom } from '../src/payments/repository';
import { createClient, dataConverter } from '../src/temporal/client';
import { TASK_QUEUES, workflowIds } from '../src/temporal/names';
import { createWorker } from '../src/worker/create-worker';
import { appPorts, createPorts } from '../src/worker/deps';
import { paymentOutcomeUpdate, type PayBillInput, type PayCardInput } from '../src/workflows/payments/contract';
import type { CustomerTransferInput, WalletFundingInput } from '../src/workflows/wallet/contract';

/**
 * What the payments bench runs against: one worker on finflow's task queue (the real
 * activities, the sandbox providers, the payload codec) that also hosts the baseline
 * workflows, one client shared by the direct scenarios and the API, and the real Koa
 * app on a random port. Payers are made straight in PostgreSQL with funded wallets and
 * a credit card each; their access tokens are signed as login signs them.
 */

const PAYERS = 64;
const BILLER = 'brightgrid-power';
/** Every workflow result and every HTTP answer has a deadline, so a stuck run fails and says which. */
export const WORKFLOW_TIMEOUT_MS = Number(process.env.BENCH_WORKFLOW_TIMEOUT_MS ?? 120_000);

export interface Payer {
  userId: string;
  email: string;
  walletId: string;
  cardId: string;
  token: string;
}

/** The baseline's only activity: nothing at all. */
export function createBaselineActivities() {
  return {
    async noop(): Promise<void> {},
  };
}

export interface BenchStack {
  config: Config;
  client: Client;
  /** A client on the worker's own connection: what eager workflow start needs. */
  eagerClient: Client;
  worker: Worker;
  baseUrl: string;
  payers: Payer[];
  close(): Promise<void>;
}

export async function benchStack(db: Db, temporal: TestWorkflowEnvironment): Promise<BenchStack> {
  // The benchmark measures the sandboxes, named here explicitly rather than by default;
  // limits high enough that a payer's day never runs out during the bench.
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: temporal.address,
    SMS_PROVIDER: 'sandbox',
    FUNDING_PROVIDER: 'sandbox',
    BILLER_PROVIDER: 'sandbox',
    // One address sends every request: the per-address lookup limit must not refuse transfers.
    LOOKUP_LIMIT_PER_ADDRESS: '1000000',
    LOOKUP_LIMIT_PER_TARGET: '1000000',
    LIMITS: ['funding', 'transfer', 'payment'].map((kind) => `USD.${kind}.per_transaction=250000,USD.${kind}.daily=900000000000`).join(','),
  });
  const ports = createPorts(config, { db });
  const client = createClient(config.temporal);
  const deps = { db, ...ports, now: () => new Date(), temporal: client };
  const worker = await createWorker(config, deps, {
    connection: temporal.nativeConnection,
    overrides: {
      workflowsPath: require.resolve('./payments-workflows'),
      activities: { ...createActivities({ limits: config.limits, ...deps }), ...createBaselineActivities() },
      shutdownGraceTime: '10s',
    },
  });
  const server: Server = createApp(config, { db, temporal: client, logger: pino({ level: 'silent' }), ...appPorts(ports) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const payers = await createPayers(db, config);
  const eagerClient = new Client({ connection: temporal.nativeConnection, namespace: config.temporal.namespace, dataConverter: dataConverter(config.temporal) });
  return {
    config,
    client,
    eagerClient,
    worker,
    baseUrl: `http://127.0.0.1:${port}`,
    payers,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await client.connection.close();
    },
  };
}

/** Payers with verified emails, funded wallets and a credit card that owes plenty; work goes round-robin so no one account is the bottleneck. */
async function createPayers(db: Db, config: Config): Promise<Payer[]> {
  const ledger = createLedger(db);
  const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
  const payers: Payer[] = [];
  for (let i = 0; i < PAYERS; i++) {
    const userId = randomUUID();
    const email = `${userId}@bench.invalid`;
    await db('users').insert({ id: userId, email, email_verified_at: new Date(), password_hash: 'bench', name: 'Bench Payer', phone: '+14155550142', date_of_birth: '1990-01-01', role: 'customer' });
    const wallet = await ledger.openAccount({ id: accountIdFrom(`wallet:${userId}:USD`), ownerUserId: userId, type: 'wallet', currency: 'USD' });
    const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 10n ** 12n });
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: wallet.id, amountMinor: 10n ** 12n, currency: 'USD', code: 'bank_deposit' });
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: card.id, creditAccountId: clearing.id, amountMinor: 10n ** 11n, currency: 'USD', code: 'card_purchase' });
    const token = signAccessToken(config.auth, { sub: userId, role: 'customer' });
    payers.push({ userId, email, walletId: wallet.id, cardId: card.id, token });
  }
  return payers;
}

/** Any last two digits but 00–04 script a plain acceptance on the sandbox biller. */
const customerRef = (call: number) => `48201937${String(10 + (call % 90))}`;
const amountOf = (call: number) => String(1_000 + (call % 5_000));

/** One kind of money movement: how to start its workflow directly, and how to ask the API for it. */
export interface MoneyKind {
  name: string;
  workflowType: string;
  /** The workflow's id and input for call `call` by `payer` (paying `next` when it needs a second customer). */
  direct(call: number, payer: Payer, next: Payer): { workflowId: string; input: unknown };
  /** The request, and where the resource it creates is read back. */
  http(call: number, payer: Payer, next: Payer): { path: string; body: Record<string, unknown>; location: (id: string) => string };
}

export const KINDS: MoneyKind[] = [
  {
    name: 'bill payment',
    workflowType: 'payBillV3',
    direct: (call, payer) => {
      const workflowId = workflowIds.payment(payer.userId, randomUUID());
      const input: PayBillInput = {
        paymentId: paymentIdFrom(workflowId),
        userId: payer.userId,
        billerId: BILLER,
        customerRef: customerRef(call),
        fromAccountId: payer.walletId,
        amountMinor: amountOf(call),
        currency: 'USD',
      };
      return { workflowId, input };
    },
    http: (call, payer) => ({
      path: '/v1/payments',
      body: { billerId: BILLER, customerRef: customerRef(call), amount: amountOf(call), fromAccountId: payer.walletId },
      location: (id) => `/v1/payments/${id}`,
    }),
  },
  {
    name: 'card payment',
    workflowType: 'payCard',
    direct: (call, payer) => {
      const workflowId = workflowIds.payment(payer.userId, randomUUID());
      const input: PayCardInput = { paymentId: paymentIdFrom(workflowId), userId: payer.userId, cardAccountId: payer.cardId, fromAccountId: payer.walletId, amountMinor: amountOf(call), currency: 'USD' };
      return { workflowId, input };
    },
    http: (call, payer) => ({ path: `/v1/accounts/${payer.cardId}/payments`, body: { fromAccountId: payer.walletId, amount: amountOf(call) }, location: (id) => `/v1/payments/${id}` }),
  },
  {
    name: 'wallet funding',
    workflowType: 'walletFunding',
    direct: (call, payer) => {
      const workflowId = workflowIds.walletFunding(payer.userId, randomUUID());
      const input: WalletFundingInput = {
        fundingId: transferIdFrom(workflowId),
        customerId: payer.userId,
        accountId: payer.walletId,
        amountMinor: amountOf(call),
        currency: 'USD',
        source: { type: 'card', token: 'tok_success' },
      };
      return { workflowId, input };
    },
    http: (call, payer) => ({
      path: '/v1/wallet/fund',
      body: { accountId: payer.walletId, amount: amountOf(call), currency: 'USD', source: { type: 'card', token: 'tok_success' } },
      location: (id) => `/v1/wallet/fundings/${id}`,
    }),
  },
  {
    name: 'customer transfer',
    workflowType: 'customerTransfer',
    direct: (call, payer, next) => {
      const workflowId = workflowIds.customerTransfer(payer.userId, randomUUID());
      const input: CustomerTransferInput = {
        transferId: transferIdFrom(workflowId),
        customerId: payer.userId,
        fromAccountId: payer.walletId,
        toAccountId: next.walletId,
        toCustomerId: next.userId,
        recipient: { email: next.email },
        amountMinor: amountOf(call),
        currency: 'USD',
        note: null,
      };
      return { workflowId, input };
    },
    http: (call, payer, next) => ({ path: '/v1/transfers', body: { fromAccountId: payer.walletId, to: { email: next.email }, amount: amountOf(call) }, location: (id) => `/v1/transfers/${id}` }),
  },
];

const payerPair = (payers: Payer[], call: number): [Payer, Payer] => [payers[call % payers.length] as Payer, payers[(call + 1) % payers.length] as Payer];

/** A workflow of this kind started and awaited directly through the client: what Temporal and the worker cost. */
export function directRun(stack: BenchStack, kind: MoneyKind, failures: string[]) {
  return async (call: number) => {
    const [payer, next] = payerPair(stack.payers, call);
    const { workflowId, input } = kind.direct(call, payer, next);
    const result = await withDeadline(
      `the result of ${kind.workflowType} ${workflowId}`,
      WORKFLOW_TIMEOUT_MS,
      stack.client.workflow.execute(kind.workflowType, { taskQueue: TASK_QUEUES.core, workflowId, args: [input] }),
    );
    if ((result as { status: string }).status !== 'succeeded') failures.push(`${workflowId}: ${JSON.stringify(result)}`);
  };
}

/** A baseline workflow started and awaited through the same client. */
export function baselineRun(stack: BenchStack, workflowType: string) {
  return async () => {
    const workflowId = `bench:${workflowType}:${randomUUID()}`;
    await withDeadline(`the result of ${workflowType} ${workflowId}`, WORKFLOW_TIMEOUT_MS, stack.client.workflow.execute(workflowType, { taskQueue: TASK_QUEUES.core, workflowId, args: [] }));
  };
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 10;

/**
 * A request through the HTTP API as a customer makes it (bearer token, Idempotency-Key),
 * timed until the resource's final status: the answer itself when the API could wait
 * for the workflow (201), else GET on its Location until it is final.
 */
/** A request answered with its final status: the resource and when the client had it (ms since the epoch). */
export interface Answered {
  id: string;
  answeredAtMs: number;
}

export function httpRun(stack: BenchStack, kind: MoneyKind, failures: string[], answered?: Answered[]) {
  return async (call: number) => {
    const [payer, next] = payerPair(stack.payers, call);
    const { path, body, location } = kind.http(call, payer, next);
    const headers = { authorization: `Bearer ${payer.token}`, 'content-type': 'application/json' };
    const deadline = Date.now() + WORKFLOW_TIMEOUT_MS;
    const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers: { ...headers, 'idempotency-key': randomUUID() }, body: JSON.stringify(body) });
    let resource = (await res.json()) as { id?: string; status?: string };
    if (res.status !== 201 && res.status !== 202) {
      failures.push(`POST ${path} answered ${res.status}: ${JSON.stringify(resource)}`);
      return;
    }
    while (!FINAL.has(resource.status ?? '') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      resource = (await (await fetch(`${stack.baseUrl}${location(resource.id ?? '')}`, { headers })).json()) as typeof resource;
    }
    if (resource.status !== 'succeeded') failures.push(`${kind.name} ${resource.id}: ${JSON.stringify(resource)}`);
    else if (resource.id) answered?.push({ id: resource.id, answeredAtMs: Date.now() });
  };
}

/**
 * Where a bill payment's time goes, from the moment the API wrote its row: the median
 * milliseconds to each step record (a record made in a transaction carries the
 * transaction's start, `now()`), to the moment the client had the final status (this
 * process's clock, the same machine's as PostgreSQL's) and to the payment's last
 * update (payBillV3's notice comes after its final status).
 */
export async function stepTimings(db: Db, answered: Answered[]): Promise<Array<{ mark: string; medianMs: number }>> {
  if (answered.length === 0) return [];
  const paymentIds = answered.map((a) => a.id);
  const payments: Array<{ id: string; created_at: Date; updated_at: Date }> = await db('payments').whereIn('id', paymentIds).select('id', 'created_at', 'updated_at');
  const steps: Array<{ payment_id: string; step: string; status: string; at: Date }> = await db('payment_steps').whereIn('payment_id', paymentIds).select('payment_id', 'step', 'status', 'at');
  const createdAt = new Map(payments.map((p) => [p.id, p.created_at.getTime()]));
  const marks = [
    ...steps.map((s) => ({ mark: `${s.step}: ${s.status}`, ms: s.at.getTime() - (createdAt.get(s.payment_id) ?? 0) })),
    ...answered.map((a) => ({ mark: 'client has the final status', ms: a.answeredAtMs - (createdAt.get(a.id) ?? 0) })),
    ...payments.map((p) => ({ mark: 'last update of the row', ms: p.updated_at.getTime() - p.created_at.getTime() })),
  ];
  const byMark = new Map<string, number[]>();
  for (const { mark, ms } of marks) byMark.set(mark, [...(byMark.get(mark) ?? []), ms]);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return [...byMark].map(([mark, xs]) => ({ mark, medianMs: median(xs) })).sort((a, b) => a.medianMs - b.medianMs);
}

/** How a caller starts a bill payment and waits for its result (the API's choice, measured). */
export type StartMode = 'start, then result' | 'update-with-start' | 'eager start, then result';

/**
 * The ways measured, each for a workflow type: payBillV2 as the API started it before
 * payBillV3 (start, then a long poll for the result), and payBillV3 in each way: as a
 * long poll (its result waits for the notice), with update-with-start on the `outcome`
 * update (what the API does now: answered once the payment is final) and eagerly on the
 * worker's own connection.
 */
export const START_MODES: Array<{ workflowType: string; mode: StartMode }> = [
  { workflowType: 'payBillV2', mode: 'start, then result' },
  { workflowType: 'payBillV3', mode: 'start, then result' },
  { workflowType: 'payBillV3', mode: 'update-with-start' },
  { workflowType: 'payBillV3', mode: 'eager start, then result' },
];

/** A bill payment started and awaited in one of the ways the API could. */
export function startModeRun(stack: BenchStack, { workflowType, mode }: { workflowType: string; mode: StartMode }, failures: string[]) {
  const [kind] = KINDS as [MoneyKind];
  return async (call: number) => {
    const [payer, next] = payerPair(stack.payers, call);
    const { workflowId, input } = kind.direct(call, payer, next);
    const options = { taskQueue: TASK_QUEUES.core, workflowId, args: [input] };
    const run = async (): Promise<unknown> => {
      if (mode === 'update-with-start') {
        const startWorkflowOperation = new WithStartWorkflowOperation(workflowType, { ...options, workflowIdConflictPolicy: 'USE_EXISTING' });
        return stack.client.workflow.executeUpdateWithStart(paymentOutcomeUpdate, { startWorkflowOperation });
      }
      const client = mode === 'eager start, then result' ? stack.eagerClient : stack.client;
      const handle = await client.workflow.start(workflowType, { ...options, ...(mode === 'eager start, then result' ? { requestEagerStart: true } : {}) });
      return handle.result();
    };
    const result = await withDeadline(`${mode} of ${workflowId}`, WORKFLOW_TIMEOUT_MS, run());
    if ((result as { status: string }).status !== 'succeeded') failures.push(`${workflowId}: ${JSON.stringify(result)}`);
  };
}
