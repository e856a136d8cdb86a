import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities, type Activities } from '../../src/activities';
import { createBillStepActivities } from '../../src/activities/payments/bill-steps';
import { createCashbackActivities } from '../../src/activities/payments/cashback';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import type { Transfer } from '../../src/ledger/types';
import { paymentIdFrom } from '../../src/payments/repository';
import { businessFailure } from '../../src/temporal/failures';
import { workflowIds } from '../../src/temporal/names';
import { payBill, payBillV2, payBillV3, repairPaymentCredits } from '../../src/workflows';
import { cancelPaymentUpdate, resolvePaymentUpdate, type PayBillInput } from '../../src/workflows/payments/contract';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { balanceOf, customerWithWallet, transfersOf, uniquePhone, assertLedgerBalanced } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';
import { eventually } from '../helpers/wait';

/**
 * The bill payment saga on the time-skipping server with real PostgreSQL and the
 * sandbox biller, whose outcome is scripted by the reference's last two digits.
 * BrightGrid Power: fee 0.50 fixed, cashback 1.50 % (+0.50 % from 50.00 up).
 */
const BILLER = 'brightgrid-power';
const ref = (script: string) => `48201937${script}`;
const AMOUNT = 10_000n;
const FEE = 50n;
/** 1.50 % + the 0.50 % tier of 100.00. */
const CASHBACK = 200n;
const START_BALANCE = 50_000n;

type Overrides = Partial<Activities>;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Every shape of the saga walks the same story and must keep its meaning: payBill (one
 * activity per step; registered for the runs it started), payBillV2 (few round trips)
 * and payBillV3 (the payment ends before its notice). A test that injects a failure names the activity each shape runs for the step.
 */
const VARIANTS = [
  { workflow: payBill, hold: 'holdPaymentFunds', post: 'postPaymentHolds' },
  { workflow: payBillV2, hold: 'holdBillFunds', post: 'settleBillPayment' },
  { workflow: payBillV3, hold: 'prepareBillPayment', post: 'settleBillPayment' },
] as const;

for (const variant of VARIANTS) {
describe(`${variant.workflow.name} workflow (time-skipping server)`, function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  afterEach(async () => {
    await assertLedgerBalanced(db);
  });

  /** Overrides the variant's activity `name` with `around`, which is given the real call. */
  const around = (name: keyof Activities, wrap: (call: () => Promise<unknown>) => Promise<unknown>): Overrides => {
    const real = createActivities(testActivityDeps(db)) as unknown as Record<string, (request: unknown) => Promise<unknown>>;
    return { [name]: (request: unknown) => wrap(() => (real[name] as (request: unknown) => Promise<unknown>)(request)) };
  };
  const activities = (overrides: Overrides = {}) => ({ ...createActivities(testActivityDeps(db)), ...overrides });
  const worker = (taskQueue: string, overrides: Overrides = {}, options: Pick<WorkerOptions, 'shutdownGraceTime' | 'maxCachedWorkflows'> = {}) =>
    Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: activities(overrides), ...options });

  /** A fresh payer with START_BALANCE in their wallet, and the input of a payment from it. */
  async function paymentFor(script: string, amountMinor = AMOUNT) {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: START_BALANCE });
    const workflowId = workflowIds.payment(userId, randomUUID());
    const input: PayBillInput = {
      paymentId: paymentIdFrom(workflowId),
      userId,
      billerId: BILLER,
      customerRef: ref(script),
      fromAccountId: wallet.id,
      amountMinor: amountMinor.toString(),
      currency: 'USD',
    };
    return { workflowId, input, userId, wallet };
  }

  async function pay(script: string, overrides: Overrides = {}) {
    const payment = await paymentFor(script);
    const taskQueue = uniqueTaskQueue('pay-bill');
    const result = await (await worker(taskQueue, overrides)).runUntil(
      env.client.workflow.execute(variant.workflow, { taskQueue, workflowId: payment.workflowId, args: [payment.input] }),
    );
    return { ...payment, result, ...(await stateOf(payment.input.paymentId, payment.wallet.id)) };
  }

  /** What the database says about a payment: its row, its step history and the ledger around it. */
  async function stateOf(paymentId: string, walletId: string) {
    const row = await db('payments').where({ id: paymentId }).first();
    const history = (await db('payment_steps').where({ payment_id: paymentId }).orderBy('id')) as Array<{ step: string; status: string; reason: string | null }>;
    const transfers = (await transfersOf(db, walletId)).filter((t) => t.code !== 'bank_deposit');
    const billerCalls = await db('sandbox_biller_payments').where({ payment_id: paymentId });
    const sms = await db('notifications').where({ user_id: row?.user_id ?? null }).orderBy('created_at');
    return { row, history, transfers, billerCalls, sms, balances: await balanceOf(db, walletId) };
  }

  const statuses = (history: Array<{ step: string; status: string }>) => history.map((h) => `${h.step}:${h.status}`);
  const kinds = (transfers: Transfer[]) => transfers.map((t) => `${t.kind}:${t.code}`).sort();

  describe('when every step succeeds', () => {
    it('pays the biller, posts amount and fee, credits cashback and records every step', async () => {
      const { result, row, history, transfers, billerCalls, balances } = await pay('55');
      assert.equal(result.status, 'succeeded');
      assert.deepEqual(
        result.steps.map((s) => `${s.step}:${s.status}`),
        ['validate', 'hold', 'pay_biller', 'post', 'cashback', 'notify'].map((step) => `${step}:succeeded`),
      );
      assert.match(result.steps[2]?.reason ?? '', /^biller reference BRIGHTGRID-[0-9A-F]{12}$/);
      assert.equal(balances.postedMinor, START_BALANCE - AMOUNT - FEE);
      assert.equal(balances.pendingMinor, 0n);
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'post_pending:bill_payment', 'post_pending:fee']);
      assert.equal(billerCalls.length, 1);
      assert.equal(billerCalls[0].status, 'accepted');
      assert.deepEqual(
        { status: row.status, fee: String(row.fee_minor), cashback: String(row.cashback_minor), reason: row.failure_reason },
        { status: 'succeeded', fee: String(FEE), cashback: String(CASHBACK), reason: null },
      );
      assert.deepEqual(statuses(history), [
        'validate:running',
        'validate:succeeded',
        'hold:succeeded',
        'pay_biller:running',
        'pay_biller:succeeded',
        'post:succeeded',
        'cashback:succeeded',
        'notify:succeeded',
      ]);
    });

    it('alerts the payer for the amount, the fee and the cashback, once each', async () => {
      const { userId, sms } = await pay('56');
      const cashbackAccount = (await createLedger(db).listAccounts(userId)).find((a) => a.type === 'cashback');
      assert.equal(cashbackAccount?.balances.postedMinor, CASHBACK);
      const bodies = sms.map((m) => m.body as string).sort();
      assert.equal(bodies.length, 3);
      assert.match(bodies[0]!, /USD 0\.50 debited from account .*, fee: BrightGrid Power 4820193756\./);
      assert.match(bodies[1]!, /USD 100\.00 debited from account .*, bill payment: BrightGrid Power 4820193756\./);
      assert.match(bodies[2]!, /USD 2\.00 credited to account .*, cashback/);
    });
  });

  describe('referral bonus', () => {
    it('credits the referrer once, on the first payment only, and alerts them', async () => {
      const referrer = await customerWithWallet(db, { phone: uniquePhone() });
      const first = await paymentFor('66');
      await db('users').where({ id: first.userId }).update({ referred_by: referrer.userId });
      const taskQueue = uniqueTaskQueue('pay-bill-referral');
      const results = await (await worker(taskQueue)).runUntil(async () => {
        const statuses: string[] = [];
        for (const key of [randomUUID(), randomUUID()]) {
          const workflowId = workflowIds.payment(first.userId, key);
          const args: [PayBillInput] = [{ ...first.input, paymentId: paymentIdFrom(workflowId) }];
          statuses.push((await env.client.workflow.execute(variant.workflow, { taskQueue, workflowId, args })).status);
        }
        return statuses;
      });
      assert.deepEqual(results, ['succeeded', 'succeeded']);
      const bonusAccount = (await createLedger(db).listAccounts(referrer.userId)).find((a) => a.type === 'cashback');
      assert.equal(bonusAccount?.balances.postedMinor, 500n);
      const sms = await db('notifications').where({ user_id: referrer.userId });
      assert.equal(sms.length, 1);
      assert.match(sms[0].body, /USD 5\.00 credited to account .*, referral bonus/);
    });
  });

  describe('compensation', () => {
    it('validation fails (unknown customer): nothing is held, the payer is told', async () => {
      const { result, row, history, transfers, billerCalls, sms, balances } = await pay('00');
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'unknown_customer');
      assert.deepEqual(transfers, []);
      assert.equal(balances.availableMinor, START_BALANCE);
      assert.equal(billerCalls.length, 0);
      assert.equal(row.status, 'failed');
      assert.equal(row.failure_reason, 'unknown_customer');
      assert.deepEqual(statuses(history), [
        'validate:running',
        'validate:failed',
        'notify:succeeded',
        'hold:skipped',
        'pay_biller:skipped',
        'post:skipped',
        'cashback:skipped',
      ]);
      assert.equal(sms.length, 1);
      assert.match(sms[0].body, /your payment of USD 100\.00 to BrightGrid Power failed: the biller does not know the customer reference/);
    });

    it('the hold is refused (insufficient funds): nothing is held, the biller is never called', async () => {
      const payment = await paymentFor('69', START_BALANCE);
      const taskQueue = uniqueTaskQueue('pay-bill-funds');
      const result = await (await worker(taskQueue)).runUntil(
        env.client.workflow.execute(variant.workflow, { taskQueue, workflowId: payment.workflowId, args: [payment.input] }),
      );
      const { history, transfers, billerCalls } = await stateOf(payment.input.paymentId, payment.wallet.id);
      assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'insufficient_funds' });
      assert.deepEqual(transfers, []);
      assert.equal(billerCalls.length, 0);
      assert.deepEqual(
        history.filter((h) => h.step === 'hold').map((h) => [h.status, h.reason]),
        [['failed', 'insufficient_funds']],
      );
    });

    it('the biller declines: the hold is voided, no cashback, the decline is recorded', async () => {
      const { result, history, transfers, balances, userId } = await pay('01');
      assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'biller_declined' });
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'void_pending:bill_payment', 'void_pending:fee']);
      assert.deepEqual(balances, { postedMinor: START_BALANCE, pendingMinor: 0n, availableMinor: START_BALANCE });
      assert.equal((await createLedger(db).listAccounts(userId)).find((a) => a.type === 'cashback'), undefined);
      const declined = history.find((h) => h.step === 'pay_biller' && h.status === 'failed');
      assert.match(declined?.reason ?? '', /^biller_declined: .*account_suspended/);
      assert.deepEqual(
        statuses(history).filter((s) => s.startsWith('hold')),
        ['hold:succeeded', 'hold:compensated'],
      );
    });

    if (variant.workflow === payBillV3) {
      it('the first step commits its hold, its answer is lost and it then fails for good: the hold it placed is voided', async () => {
        // The worker dies after the commit; every later attempt fails (the database down past the step's retries).
        let attempts = 0;
        const lost = around('prepareBillPayment', async (call) => {
          attempts += 1;
          if (attempts === 1) await call();
          throw ApplicationFailure.create({ message: 'the database is down', nonRetryable: true });
        });
        const { result, history, transfers, balances, billerCalls } = await pay('55', lost);
        assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'biller_unavailable' });
        assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'void_pending:bill_payment', 'void_pending:fee']);
        assert.deepEqual(balances, { postedMinor: START_BALANCE, pendingMinor: 0n, availableMinor: START_BALANCE });
        assert.equal(billerCalls.length, 0);
        assert.ok(statuses(history).includes('hold:compensated'));
      });

      it('the first step fails for good before any hold: nothing to release, the payment fails', async () => {
        const down = around('prepareBillPayment', () => Promise.reject(ApplicationFailure.create({ message: 'the biller is down', nonRetryable: true })));
        const { result, transfers, balances } = await pay('55', down);
        assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'biller_unavailable' });
        assert.deepEqual(transfers, []);
        assert.equal(balances.availableMinor, START_BALANCE);
      });
    }

  });

  describe('an unknown biller outcome (needs_review)', () => {
    /**
     * A biller that never answers, payment calls and status queries alike. As script 04
     * does, but failing at once: a workflow started (not awaited) on the time-skipping
     * server runs its retry timers in real time.
     */
    const unreachable = () => {
      throw ApplicationFailure.create({ nonRetryable: true, message: 'connect ETIMEDOUT' });
    };
    const silentBiller: Overrides = { payBiller: async () => unreachable(), getBillerPaymentStatus: async () => unreachable() };

    /**
     * Starts a payment whose biller outcome stays unknown and waits until it is under
     * review: the pending notice has been sent. Answers the handle and a way to stop the worker.
     */
    async function paymentUnderReview(script = '55', overrides: Overrides = silentBiller) {
      const payment = await paymentFor(script);
      const taskQueue = uniqueTaskQueue('pay-bill-review');
      const real = createActivities(testActivityDeps(db));
      const told = deferred();
      const w = await worker(taskQueue, {
        sendPaymentNotice: async (notice) => {
          const sent = await real.sendPaymentNotice(notice);
          if (notice.outcome === 'pending') told.resolve();
          return sent;
        },
        ...overrides,
      });
      const running = w.run();
      const handle = await env.client.workflow.start(variant.workflow, { taskQueue, workflowId: payment.workflowId, args: [payment.input] });
      await told.promise;
      // Every test resolves the payment first: the workflow ends (payBillV3's notice comes
      // after the resolution's answer) before its worker stops.
      const stop = async () => {
        await handle.result();
        w.shutdown();
        await running;
      };
      return { ...payment, handle, stop };
    }

    it('keeps the hold, shows needs_review and tells the payer it is pending, not refunded', async () => {
      const { input, wallet, handle, stop } = await paymentUnderReview();
      try {
        const { row, history, transfers, balances, sms } = await stateOf(input.paymentId, wallet.id);
        assert.equal(row.status, 'needs_review');
        assert.ok(statuses(history).includes('pay_biller:needs_review'));
        assert.ok(!statuses(history).includes('hold:compensated'));
        assert.equal(transfers.filter((t) => t.kind === 'void_pending').length, 2, 'the timed holds were swapped');
        assert.equal(transfers.filter((t) => t.kind === 'pending' && t.timeoutAt === null).length, 2, 'for holds without a timeout');
        assert.deepEqual(balances, { postedMinor: START_BALANCE, pendingMinor: -(AMOUNT + FEE), availableMinor: START_BALANCE - AMOUNT - FEE });
        assert.equal(sms.length, 1);
        assert.match(sms[0].body, /is pending/);
        assert.doesNotMatch(sms[0].body, /is back|refund/);
      } finally {
        await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'not_paid', note: 'test cleanup' }] });
        await stop();
      }
    });

    it('the hold-expiry housekeeping does not release a hold under review, even long after its timeout', async () => {
      const { input, wallet, handle, stop } = await paymentUnderReview();
      try {
        const inAMonth = new Date(Date.now() + 30 * 24 * 3600_000);
        await createActivities(testActivityDeps(db, { now: () => inAMonth })).expirePendingHolds();
        const { transfers, balances } = await stateOf(input.paymentId, wallet.id);
        assert.equal(transfers.filter((t) => t.kind === 'expire_pending').length, 0);
        assert.equal(balances.pendingMinor, -(AMOUNT + FEE));
      } finally {
        await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'not_paid', note: 'test cleanup' }] });
        await stop();
      }
    });

    it('resolved as paid: the hold is posted, cashback credited, the payment succeeds with the note', async () => {
      const { input, wallet, handle, stop } = await paymentUnderReview();
      const result = await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'paid', note: 'biller confirmed by phone' }] });
      await stop();
      const { row, transfers, balances } = await stateOf(input.paymentId, wallet.id);
      assert.equal(result.status, 'succeeded');
      assert.deepEqual({ status: row.status, resolution: row.resolution, note: row.resolution_note }, { status: 'succeeded', resolution: 'paid', note: 'biller confirmed by phone' });
      assert.equal(transfers.filter((t) => t.kind === 'post_pending').length, 2);
      assert.deepEqual(balances, { postedMinor: START_BALANCE - AMOUNT - FEE, pendingMinor: 0n, availableMinor: START_BALANCE - AMOUNT - FEE });
      assert.equal(String(row.cashback_minor), String(CASHBACK));
    });

    it('resolved as not paid: the hold is voided and the payer told the money is back', async () => {
      const { input, wallet, handle, stop } = await paymentUnderReview();
      const result = await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'not_paid', note: 'biller has no record' }] });
      await stop();
      const { row, transfers, balances, sms } = await stateOf(input.paymentId, wallet.id);
      assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'biller_not_paid' });
      assert.deepEqual({ status: row.status, resolution: row.resolution }, { status: 'failed', resolution: 'not_paid' });
      assert.equal(transfers.filter((t) => t.kind === 'post_pending').length, 0);
      assert.deepEqual(balances, { postedMinor: START_BALANCE, pendingMinor: 0n, availableMinor: START_BALANCE });
      assert.match(sms[sms.length - 1].body, /failed: the biller did not receive it\. Any money held or taken for it is back/);
    });

    it('a second resolution is refused: the first one stands', async () => {
      const { handle, stop } = await paymentUnderReview();
      await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'not_paid', note: 'first' }] });
      await stop();
      await assert.rejects(handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'paid', note: 'second' }] }));
      assert.equal((await handle.result()).status, 'failed');
    });

    it('a biller withdrawn mid-payment goes to review instead of releasing the hold', async () => {
      const real = createActivities(testActivityDeps(db));
      const { input, wallet, handle, stop } = await paymentUnderReview('55', {
        payBiller: async (request) => {
          // The first attempt reaches the biller and its answer is lost; then the biller is withdrawn.
          await real.payBiller(request);
          throw businessFailure('biller_not_found', `no active biller ${request.billerId}`);
        },
      });
      try {
        const { row, balances } = await stateOf(input.paymentId, wallet.id);
        assert.equal(row.status, 'needs_review');
        assert.equal(balances.pendingMinor, -(AMOUNT + FEE));
      } finally {
        await handle.executeUpdate(resolvePaymentUpdate, { args: [{ outcome: 'paid', note: 'biller paid before it left' }] });
        await stop();
      }
    });
  });

  describe('after the biller accepted, only forward', () => {
    /**
     * A credit that fails for good. payBill's credits are activities of their own, so
     * one is overridden; payBillV2 credits inside its settle step, so the step is given
     * credit functions of which that one refuses.
     */
    const refusing = (credit: 'creditCashback' | 'creditReferralBonus', message: string): Overrides => {
      const refusal = async () => Promise.reject(businessFailure('transfer_rejected', message));
      if (variant.workflow === payBill) return { [credit]: refusal };
      const credits = (trx: Knex.Transaction) => ({ ...createCashbackActivities({ db: trx, now: () => new Date() }), [credit]: refusal });
      const steps = createBillStepActivities(testActivityDeps(db), credits);
      return { settleBillPayment: (input) => steps.settleBillPayment(input) };
    };

    it('a refused posting is retried until it posts: nothing is voided or reversed', async () => {
      let refusals = 0;
      const { result, row, transfers, balances } = await pay(
        '57',
        around(variant.post, async (post) => {
          if (refusals++ < 2) throw businessFailure('transfer_rejected', 'the ledger refused the posting', { code: 'transfer_rejected' });
          return post();
        }),
      );
      assert.equal(result.status, 'succeeded');
      assert.equal(row.status, 'succeeded');
      assert.equal(refusals, 3);
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'post_pending:bill_payment', 'post_pending:fee']);
      assert.equal(balances.postedMinor, START_BALANCE - AMOUNT - FEE);
    });

    it('cashback fails for good: the payment succeeds, nothing is reversed, a repair is queued', async () => {
      const { result, row, history, transfers, balances, input } = await pay('58', refusing('creditCashback', 'cashback refused'));
      assert.equal(result.status, 'succeeded');
      assert.equal(row.status, 'succeeded');
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'post_pending:bill_payment', 'post_pending:fee']);
      assert.equal(balances.postedMinor, START_BALANCE - AMOUNT - FEE);
      assert.ok(statuses(history).includes('cashback:failed'));
      const repairs = await db('payment_repairs').where({ payment_id: input.paymentId });
      assert.deepEqual(repairs.map((r) => [r.credit, r.status]), [['cashback', 'pending']]);
    });

    it('the repair Schedule\'s workflow credits a queued cashback once', async () => {
      const { userId, input } = await pay('63', refusing('creditCashback', 'cashback refused'));
      const taskQueue = uniqueTaskQueue('payment-repairs');
      const repair = () => env.client.workflow.execute(repairPaymentCredits, { taskQueue, workflowId: `repairs-test:${randomUUID()}` });
      const [first] = await (await worker(taskQueue)).runUntil(async () => [await repair(), await repair()]);
      assert.ok((first?.repaired ?? 0) >= 1);
      const cashbackAccount = (await createLedger(db).listAccounts(userId)).find((a) => a.type === 'cashback');
      assert.equal(cashbackAccount?.balances.postedMinor, CASHBACK, 'credited once across two runs');
      const [repairRow] = await db('payment_repairs').where({ payment_id: input.paymentId });
      assert.equal(repairRow.status, 'done');
      const row = await db('payments').where({ id: input.paymentId }).first();
      assert.equal(String(row.cashback_minor), String(CASHBACK));
    });

    it('the referral bonus fails for good: the payment succeeds and the bonus is queued, never a reversal', async () => {
      const referrer = await customerWithWallet(db, { phone: uniquePhone() });
      const payment = await paymentFor('59');
      await db('users').where({ id: payment.userId }).update({ referred_by: referrer.userId });
      const taskQueue = uniqueTaskQueue('pay-bill-bonus-fails');
      const result = await (
        await worker(taskQueue, refusing('creditReferralBonus', 'referral refused'))
      ).runUntil(env.client.workflow.execute(variant.workflow, { taskQueue, workflowId: payment.workflowId, args: [payment.input] }));
      const { transfers } = await stateOf(payment.input.paymentId, payment.wallet.id);
      assert.equal(result.status, 'succeeded');
      assert.equal(transfers.filter((t) => t.code === 'reversal').length, 0);
      const repairs = await db('payment_repairs').where({ payment_id: payment.input.paymentId });
      assert.deepEqual(repairs.map((r) => r.credit), ['referral_bonus']);
    });
  });

  describe('the payment row', () => {
    it('is written back when it finishes if the API withdrew it meanwhile, steps recorded without it are skipped', async () => {
      const { workflowId, input, userId, wallet } = await paymentFor('55');
      const activities = createActivities(testActivityDeps(db));
      const payment = {
        id: input.paymentId,
        userId,
        kind: 'bill' as const,
        billerId: BILLER,
        customerRef: input.customerRef,
        fromAccountId: wallet.id,
        toAccountId: null,
        amountMinor: input.amountMinor,
        currency: 'USD',
        workflowId,
        recurringPaymentId: null,
        period: null,
      };
      await activities.recordPaymentStep({ paymentId: input.paymentId, step: 'validate', status: 'failed', reason: 'unknown_customer' });
      await activities.finishPayment({ payment, status: 'failed', reason: 'unknown_customer' });
      const row = await db('payments').where({ id: input.paymentId }).first();
      assert.deepEqual({ status: row.status, reason: row.failure_reason, workflow: row.workflow_id }, { status: 'failed', reason: 'unknown_customer', workflow: workflowId });
      const steps = await db('payment_steps').where({ payment_id: input.paymentId });
      assert.deepEqual(steps.map((st) => st.status), Array(6).fill('skipped'));
    });
  });

  describe('exactly once', () => {
    it('a worker killed after the hold, mid biller call, and a new worker: one biller payment, one posting', async () => {
      const { workflowId, input, wallet } = await paymentFor('60');
      const taskQueue = uniqueTaskQueue('pay-bill-crash');
      const real = createActivities(testActivityDeps(db));
      const reachedBiller = deferred();
      const first = await worker(
        taskQueue,
        {
          // The biller takes the payment, then the worker dies before reporting it.
          payBiller: async (request) => {
            await real.payBiller(request);
            reachedBiller.resolve();
            await Context.current().cancelled.catch(() => undefined);
            throw new Error('worker went away mid-call');
          },
        },
        // No workflow cache: the time-skipping test server never hands the tasks of a dead
        // worker's sticky queue back to the shared queue (a real server does, after the
        // sticky timeout), so the first worker must not own one.
        { shutdownGraceTime: '100ms', maxCachedWorkflows: 0 },
      );
      const firstRun = first.run();
      const handle = await env.client.workflow.start(variant.workflow, { taskQueue, workflowId, args: [input] });
      await reachedBiller.promise;
      assert.equal((await transfersOf(db, wallet.id)).filter((t) => t.kind === 'pending').length, 2, 'held before the crash');
      first.shutdown();
      await firstRun;

      const second = await worker(taskQueue);
      const result = await second.runUntil(handle.result());
      const { transfers, billerCalls, balances } = await stateOf(input.paymentId, wallet.id);
      assert.equal(result.status, 'succeeded');
      assert.equal(billerCalls.length, 1);
      assert.equal(billerCalls[0].calls, 2, 'paid again under the same id, accepted once');
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'post_pending:bill_payment', 'post_pending:fee']);
      assert.deepEqual(balances, { postedMinor: START_BALANCE - AMOUNT - FEE, pendingMinor: 0n, availableMinor: START_BALANCE - AMOUNT - FEE });
    });

    it('a biller timeout followed by success is paid once and posted once', async () => {
      const { result, billerCalls, transfers } = await pay('02');
      assert.equal(result.status, 'succeeded');
      assert.equal(billerCalls.length, 1);
      assert.equal(billerCalls[0].calls, 2);
      assert.equal(transfers.filter((t) => t.kind === 'post_pending').length, 2);
    });

    it('an unknown outcome is resolved by a status query, not a second payment', async () => {
      const { result, billerCalls, transfers } = await pay('03');
      assert.equal(result.status, 'succeeded');
      assert.equal(billerCalls[0].calls, 1);
      assert.equal(transfers.filter((t) => t.kind === 'post_pending').length, 2);
    });
  });

  describe('cancellation', () => {
    it('before the biller is called: the payment is cancelled and the hold voided', async () => {
      const { workflowId, input, wallet } = await paymentFor('61');
      const taskQueue = uniqueTaskQueue('pay-bill-cancel');
      const holding = deferred();
      const release = deferred();
      const w = await worker(
        taskQueue,
        around(variant.hold, async (hold) => {
          const held = await hold();
          holding.resolve();
          await release.promise;
          return held;
        }),
      );
      const result = await w.runUntil(async () => {
        const handle = await env.client.workflow.start(variant.workflow, { taskQueue, workflowId, args: [input] });
        await holding.promise;
        const update = await handle.startUpdate(cancelPaymentUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
        release.resolve();
        const answered = await update.result();
        assert.deepEqual(answered, await handle.result());
        return answered;
      });
      const { row, transfers, billerCalls, balances, sms } = await stateOf(input.paymentId, wallet.id);
      assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'cancelled', reason: 'cancelled_by_customer' });
      assert.deepEqual({ status: row.status, reason: row.failure_reason }, { status: 'cancelled', reason: 'cancelled_by_customer' });
      assert.equal(billerCalls.length, 0);
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'void_pending:bill_payment', 'void_pending:fee']);
      assert.equal(balances.availableMinor, START_BALANCE);
      assert.match(sms[0].body, /was cancelled/);
    });

    it('a workflow cancellation (an operator) during the hold: cancelled, and the hold it made is voided', async () => {
      const { workflowId, input, wallet } = await paymentFor('67');
      const taskQueue = uniqueTaskQueue('pay-bill-operator-cancel');
      const holding = deferred();
      const release = deferred();
      const w = await worker(
        taskQueue,
        around(variant.hold, async (hold) => {
          holding.resolve();
          await release.promise;
          return hold();
        }),
      );
      const result = await w.runUntil(async () => {
        const handle = await env.client.workflow.start(variant.workflow, { taskQueue, workflowId, args: [input] });
        await holding.promise;
        await handle.cancel();
        // The workflow sees the request at its next workflow task: at once while payBill
        // waits for its remote hold, at the task's heartbeat while payBillV2's local hold runs.
        await eventually('the cancel request delivered to the workflow', async () => {
          const events = (await handle.fetchHistory()).events ?? [];
          const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
          return requested >= 0 && events.slice(requested).some((e) => e.workflowTaskStartedEventAttributes) ? true : undefined;
        });
        release.resolve();
        return handle.result();
      });
      const { transfers, billerCalls, balances } = await stateOf(input.paymentId, wallet.id);
      assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'cancelled', reason: 'cancelled_by_operator' });
      assert.equal(billerCalls.length, 0);
      assert.deepEqual(kinds(transfers), ['pending:bill_payment', 'pending:fee', 'void_pending:bill_payment', 'void_pending:fee']);
      assert.equal(balances.availableMinor, START_BALANCE);
    });

    it('once the biller is called: the cancel is rejected and the payment completes', async () => {
      const { workflowId, input } = await paymentFor('62');
      const taskQueue = uniqueTaskQueue('pay-bill-no-cancel');
      const real = createActivities(testActivityDeps(db));
      const paying = deferred();
      const release = deferred();
      const w = await worker(taskQueue, {
        payBiller: async (request) => {
          paying.resolve();
          await release.promise;
          return real.payBiller(request);
        },
      });
      const result = await w.runUntil(async () => {
        const handle = await env.client.workflow.start(variant.workflow, { taskQueue, workflowId, args: [input] });
        await paying.promise;
        await assert.rejects(handle.executeUpdate(cancelPaymentUpdate), (err: unknown) => {
          assert.ok(err instanceof WorkflowUpdateFailedError);
          assert.ok(err.cause instanceof ApplicationFailure);
          assert.equal(err.cause.type, 'payment_not_cancellable');
          return true;
        });
        release.resolve();
        return handle.result();
      });
      assert.equal(result.status, 'succeeded');
    });
  });
});
}
