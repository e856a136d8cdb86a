/**
 * Records the event histories the replay tests run against the current workflow code.
 * Run once per workflow version and commit the JSON: a later change that breaks
 * determinism then fails test/workflows/replay.test.ts.
 *
 *   npx tsx scripts/record-histories.ts                    # every recording
 *   npx tsx scripts/record-histories.ts wallet-funding-v1  # only the ones named
 *
 * Recording one again rewrites its file; name only the new ones to keep the others.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createActivities } from '../src/activities';
import type { Db } from '../src/db/knex';
import { transferIdFrom } from '../src/ledger/ids';
import { createLedger } from '../src/ledger/service';
import { paymentIdFrom } from '../src/payments/repository';
import { cancelPaymentUpdate, resolvePaymentUpdate, type PayBillInput } from '../src/workflows/payments/contract';
import { phoneVerified } from '../src/workflows/platform/contract';
import { workflowIds } from '../src/temporal/names';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import { bankPosting, customerTransfer, monthlyStatements, onboarding, payBill, payBillV2, payBillV3, payCard, recurringPaymentRun, statement, statementCycles, walletFunding } from '../src/workflows';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../test/helpers/fixtures';
import { customerWithWallet, deposit, uniquePhone } from '../test/helpers/money';
import { createS3Storage } from '../src/providers/storage/s3';
import { localS3, stopAll, testDb, timeSkippingServer } from '../test/helpers/services';
import { recurringPaymentFixture } from '../test/helpers/recurring';

const OUT_DIR = join(__dirname, '..', 'test', 'workflows', 'histories');

interface Recorder {
  env: TestWorkflowEnvironment;
  db: Db;
  taskQueue: string;
}

/** Each recording runs one workflow to completion and returns its workflow id (and the run, when not the last). */
const RECORDINGS: Record<string, (r: Recorder) => Promise<string | { workflowId: string; runId: string }>> = {
  'onboarding-v1': async ({ env, db, taskQueue }) => {
    const customerId = await insertCustomer(db);
    const workflowId = workflowIds.onboarding(customerId);
    await env.client.workflow.execute(onboarding, { taskQueue, workflowId, args: [{ customerId }] });
    return workflowId;
  },

  /** Onboarding since verification: it waits for the phone to be verified, then greets. */
  'onboarding-verified-v2': async ({ env, db, taskQueue }) => {
    const customerId = await insertCustomer(db, { phone: uniquePhone() });
    await db('users').where({ id: customerId }).update({ phone_verified_at: new Date() });
    const workflowId = workflowIds.onboarding(customerId);
    const handle = await env.client.workflow.start(onboarding, { taskQueue, workflowId, args: [{ customerId }] });
    await handle.signal(phoneVerified);
    await handle.result();
    return workflowId;
  },

  'wallet-funding-v1': (r) => recordFunding(r, 'tok_success'),

  /** The unknown-outcome path: a charge answered `unknown`, then resolved by a status query after a timer. */
  'wallet-funding-unknown-v1': (r) => recordFunding(r, 'tok_unknown_outcome'),

  'customer-transfer-v1': async ({ env, db, taskQueue }) => {
    const sender = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 10_000n });
    const recipient = await customerWithWallet(db, { phone: uniquePhone() });
    const workflowId = workflowIds.customerTransfer(sender.userId, randomUUID());
    await env.client.workflow.execute(customerTransfer, {
      taskQueue,
      workflowId,
      args: [
        {
          transferId: transferIdFrom(workflowId),
          customerId: sender.userId,
          fromAccountId: sender.wallet.id,
          toAccountId: recipient.wallet.id,
          toCustomerId: recipient.userId,
          recipient: { email: `${recipient.userId}@example.com` },
          amountMinor: '2500',
          currency: 'USD',
          note: 'dinner',
        },
      ],
    });
    return workflowId;
  },

  'bank-posting-v1': async ({ env, db, taskQueue }) => {
    const customerId = await insertCustomer(db, { phone: uniquePhone() });
    const card = await createLedger(db).openAccount({ ownerUserId: customerId, type: 'credit_card', currency: 'USD', creditLimitMinor: 50_000n });
    const workflowId = workflowIds.bankPosting(randomUUID());
    await env.client.workflow.execute(bankPosting, {
      taskQueue,
      workflowId,
      args: [
        {
          postingId: transferIdFrom(workflowId),
          customerId,
          accountId: card.id,
          direction: 'debit',
          amountMinor: '1999',
          currency: 'USD',
          code: 'card_purchase',
          description: 'Corner Bookshop',
        },
      ],
    });
    return workflowId;
  },

  /** A bill paid end to end: validate, hold, pay the biller, post, cashback, alerts. */
  'pay-bill-v1': (r) => recordBillPayment(r, '55'),

  /** payBill as it ran when payBillV2 replaced it for new payments (every patch taken): kept registered for its runs. */
  'pay-bill-before-v2': (r) => recordBillPayment(r, '57'),

  /** A bill paid by payBillV2, the saga in few round trips (local steps, one notice). */
  'pay-bill-v2': (r) => recordBillPayment(r, '58', payBillV2),

  /** A bill paid by payBillV3: validate + hold in one local step, the payment ended with the posting, then the notice. */
  'pay-bill-v3': (r) => recordBillPayment(r, '64', payBillV3),

  /** payBillV3 when the biller declines: the hold voided, the failure notice, the payment concluded as payBill concludes it. */
  'pay-bill-v3-declined': (r) => recordBillPayment(r, '01', payBillV3),

  /** The biller declines: the holds are voided by the saga's compensation. */
  'pay-bill-declined-v1': (r) => recordBillPayment(r, '01'),

  /** The biller answers `unknown`; a status query resolves it. */
  'pay-bill-unknown-v1': (r) => recordBillPayment(r, '03'),

  /** Cancelled by the customer before the biller is called: the update arrives with the start. */
  'pay-bill-cancelled-v1': async ({ env, db, taskQueue }) => {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 50_000n });
    const workflowId = workflowIds.payment(userId, randomUUID());
    const input = billInput(workflowId, userId, wallet.id, '68');
    const startWorkflowOperation = new WithStartWorkflowOperation(payBill, { taskQueue, workflowId, args: [input], workflowIdConflictPolicy: 'FAIL' });
    await env.client.workflow.executeUpdateWithStart(cancelPaymentUpdate, { startWorkflowOperation });
    await (await startWorkflowOperation.workflowHandle()).result();
    return workflowId;
  },

  'pay-card-v1': async ({ env, db, taskQueue }) => {
    const userId = await insertCustomer(db, { phone: uniquePhone() });
    const ledger = createLedger(db);
    const savings = await ledger.openAccount({ ownerUserId: userId, type: 'savings', currency: 'USD' });
    const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 50_000n });
    await deposit(db, savings.id, 20_000n);
    const workflowId = workflowIds.payment(userId, randomUUID());
    await env.client.workflow.execute(payCard, {
      taskQueue,
      workflowId,
      args: [{ paymentId: paymentIdFrom(workflowId), userId, cardAccountId: card.id, fromAccountId: savings.id, amountMinor: '7500', currency: 'USD' }],
    });
    return workflowId;
  },

  /** A bill paid end to end after the forward-only patch (its marker precedes the posting). */
  'pay-bill-forward-v1': (r) => recordBillPayment(r, '55'),

  /** A biller that never answers: the payment waits in needs_review, an operator resolves it as paid. */
  'pay-bill-review-v1': async ({ env, db, taskQueue }) => {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 50_000n });
    const workflowId = workflowIds.payment(userId, randomUUID());
    const input = billInput(workflowId, userId, wallet.id, '04');
    const handle = await env.client.workflow.start(payBill, { taskQueue, workflowId, args: [input] });
    // Skips the biller's retries and status queries (minutes of timers) on the time-skipping server.
    await env.sleep('2 hours');
    const deadline = Date.now() + 60_000;
    while ((await db('payments').where({ id: input.paymentId }).first('status'))?.status !== 'needs_review') {
      if (Date.now() > deadline) throw new Error('the payment never reached needs_review');
      await env.sleep('10 minutes');
    }
    await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'paid', note: 'confirmed with the biller' }] });
    await handle.result();
    return workflowId;
  },

  /** A recurring payment's run that pays its period (a child payBill). */
  'recurring-payment-run-v1': (r) => recordRecurringRun(r, 50_000n),

  /** A recurring payment's run since it pays with payBillV3 (patch `recurring-pays-with-pay-bill-v3`). */
  'recurring-payment-run-v3': (r) => recordRecurringRun(r, 50_000n),

  /** Insufficient funds: the run retries after 1 and 3 days, notifying, then pauses the Schedule. */
  'recurring-payment-run-dunning-v1': (r) => recordRecurringRun(r, 0n),

  /**
   * The calendar-month statement run before statement cycles: the first run of a chain,
   * three active accounts in pages of two (two children, then continue-as-new). Record
   * it alone, so only its own accounts are active in the month.
   */
  'monthly-statements-v1': async ({ env, db, taskQueue }) => {
    for (let i = 0; i < 3; i++) await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 1_000n });
    const month = new Date().toISOString().slice(0, 7);
    const workflowId = `${workflowIds.monthlyStatementsOf(month)}:record`;
    const handle = await env.client.workflow.start(monthlyStatements, { taskQueue, workflowId, args: [{ month, pageSize: 2 }] });
    await handle.result();
    return { workflowId, runId: handle.firstExecutionRunId };
  },

  /** One statement as the monthly run made it before statement cycles: open, render and store, link SMS, ready. */
  'statement-v1': (r) => recordStatement(r),

  /** One statement in two steps (patch `statement-in-two-steps`): prepare, deliver. */
  'statement-two-steps-v1': (r) => recordStatement(r),

  /** The daily run on a card's statement day: the first run of a chain (page of one, then continue-as-new). */
  'statement-cycles-v1': async ({ env, db, taskQueue }) => {
    const today = new Date().toISOString().slice(0, 10);
    for (let i = 0; i < 2; i++) {
      const userId = await insertCustomer(db, { phone: uniquePhone() });
      const ledger = createLedger(db);
      const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 50_000n });
      await db('card_terms').insert({ account_id: card.id, statement_day: Number(today.slice(8)) });
      await ledger.createTransfer({ id: randomUUID(), debitAccountId: card.id, creditAccountId: await ledger.systemAccountId('funding_clearing', 'USD'), amountMinor: 1_999n, currency: 'USD', code: 'card_purchase' });
    }
    const workflowId = `${workflowIds.statementCyclesOf(today)}:record`;
    const handle = await env.client.workflow.start(statementCycles, { taskQueue, workflowId, args: [{ date: today, pageSize: 1 }] });
    await handle.result();
    return { workflowId, runId: handle.firstExecutionRunId };
  },
};

/** A wallet's statement of this month so far. */
async function recordStatement({ env, db, taskQueue }: Recorder): Promise<string> {
  const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 1_000n });
  const month = new Date().toISOString().slice(0, 7);
  const workflowId = `${workflowIds.monthlyStatement(wallet.id, month)}:record`;
  const period = { from: `${month}-01T00:00:00.000Z`, to: new Date(Date.now() + 60_000).toISOString() };
  await env.client.workflow.execute(statement, { taskQueue, workflowId, args: [{ statementId: transferIdFrom(workflowId), userId, accountId: wallet.id, source: 'api', period }] });
  return workflowId;
}

async function recordFunding({ env, db, taskQueue }: Recorder, token: string): Promise<string> {
  const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone() });
  const workflowId = workflowIds.walletFunding(userId, randomUUID());
  await env.client.workflow.execute(walletFunding, {
    taskQueue,
    workflowId,
    args: [
      {
        fundingId: transferIdFrom(workflowId),
        customerId: userId,
        accountId: wallet.id,
        amountMinor: '5000',
        currency: 'USD',
        source: { type: 'card', token },
      },
    ],
  });
  return workflowId;
}

/** A bill of 100.00 to BrightGrid Power; the reference's last two digits script the sandbox biller. */
function billInput(workflowId: string, userId: string, walletId: string, script: string): PayBillInput {
  return {
    paymentId: paymentIdFrom(workflowId),
    userId,
    billerId: 'brightgrid-power',
    customerRef: `48201937${script}`,
    fromAccountId: walletId,
    amountMinor: '10000',
    currency: 'USD',
  };
}

async function recordBillPayment({ env, db, taskQueue }: Recorder, script: string, workflow: typeof payBill = payBill): Promise<string> {
  const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 50_000n });
  const workflowId = workflowIds.payment(userId, randomUUID());
  await env.client.workflow.execute(workflow, { taskQueue, workflowId, args: [billInput(workflowId, userId, wallet.id, script)] });
  return workflowId;
}

/** A run of a monthly recurring payment from a wallet holding `balanceMinor`, for March 2027. */
async function recordRecurringRun({ env, db, taskQueue }: Recorder, balanceMinor: bigint): Promise<string> {
  const { id } = await recurringPaymentFixture(db, { balanceMinor });
  const workflowId = `${workflowIds.recurringPaymentRun(id)}-2027-03-31T13:00:00Z`;
  await env.client.workflow.execute(recurringPaymentRun, { taskQueue, workflowId, args: [{ recurringPaymentId: id, scheduledAt: '2027-03-31T13:00:00Z' }] });
  return workflowId;
}

/** The time-skipping server has no Schedules: pausing a recurring payment's is only pretended. */
const schedulesStandIn = { schedule: { getHandle: () => ({ pause: async () => undefined }) } } as unknown as Client;

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(name in RECORDINGS));
  if (unknown.length > 0) throw new Error(`unknown recording(s): ${unknown.join(', ')}; known: ${Object.keys(RECORDINGS).join(', ')}`);
  const names = requested.length > 0 ? requested : Object.keys(RECORDINGS);

  const [env, db, s3] = await Promise.all([timeSkippingServer(), testDb(), localS3()]);
  const storage = createS3Storage({ bucket: 'record-histories', region: 'us-east-1', endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
  await storage.ensureBucket();
  const taskQueue = uniqueTaskQueue('record');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities(testActivityDeps(db, { temporal: schedulesStandIn, storage })),
  });
  await worker.runUntil(async () => {
    for (const name of names) {
      const recorded = await (RECORDINGS[name] as (r: Recorder) => Promise<string | { workflowId: string; runId: string }>)({ env, db, taskQueue });
      const { workflowId, runId } = typeof recorded === 'string' ? { workflowId: recorded, runId: undefined } : recorded;
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      await writeFile(join(OUT_DIR, `${name}.json`), historyToJSON(history));
      console.log(`recorded ${name} (${workflowId})`);
    }
  });
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void stopAll());
