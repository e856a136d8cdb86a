import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../../src/activities';
import { paymentIdFrom } from '../../src/payments/repository';
import { dataConverter } from '../../src/temporal/client';
import { workflowIds } from '../../src/temporal/names';
import { payBill } from '../../src/workflows';
import type { PayBillInput } from '../../src/workflows/payments/contract';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { client } from '../helpers/http';
import { deposit, uniquePhone } from '../helpers/money';
import { stack, workflowBundle, type Stack } from '../helpers/services';
import { signUpAndLogin } from '../helpers/users';

/**
 * A payment whose biller outcome is unknown, over HTTP: the customer sees
 * `needs_review`, an operator resolves it through `/internal/v1` with the service token.
 * The payment runs on a worker of its own whose biller never answers (the stack's
 * sandbox biller takes minutes of real retries to give up); the API finds its workflow
 * by id whatever task queue it runs on.
 */
describe('payment review (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  const told = new Map<string, () => void>();

  const unreachable = () => {
    throw ApplicationFailure.create({ nonRetryable: true, message: 'connect ETIMEDOUT' });
  };

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
    taskQueue = uniqueTaskQueue('payment-review');
    const real = createActivities(testActivityDeps(s.db));
    const overrides: Partial<Activities> = {
      payBiller: async () => unreachable(),
      getBillerPaymentStatus: async () => unreachable(),
      sendPaymentNotice: async (notice) => {
        const sent = await real.sendPaymentNotice(notice);
        if (notice.outcome === 'pending') told.get(notice.paymentId)?.();
        return sent;
      },
    };
    // The API signals through the stack's client, which seals payloads: this worker must open them.
    worker = await Worker.create({
      connection: s.temporal.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...real, ...overrides },
      dataConverter: dataConverter(s.config.temporal),
    });
    running = worker.run();
  });

  after(async () => {
    worker.shutdown();
    await running;
  });

  /** A customer's payment of 100.00 waiting in needs_review; answers its id and the customer's token. */
  async function paymentUnderReview() {
    const user = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const accounts = await http('GET', '/v1/accounts', { token: user.accessToken });
    const walletId = accounts.body.data[0].id as string;
    await deposit(s.db, walletId, 50_000n);
    const workflowId = workflowIds.payment(user.user.id, randomUUID());
    const input: PayBillInput = {
      paymentId: paymentIdFrom(workflowId),
      userId: user.user.id,
      billerId: 'brightgrid-power',
      customerRef: '4820193755',
      fromAccountId: walletId,
      amountMinor: '10000',
      currency: 'USD',
    };
    const reviewed = new Promise<void>((resolve) => told.set(input.paymentId, resolve));
    await s.client.workflow.start(payBill, { taskQueue, workflowId, args: [input] });
    await reviewed;
    return { id: input.paymentId, token: user.accessToken, walletId };
  }

  const resolve = (id: string, body: object, token = s.config.auth.serviceToken) => http('POST', `/internal/v1/payments/${id}/resolve`, { token, body });

  it('GET /v1/payments/{id} shows needs_review, the pay_biller step waiting, and the money still held', async () => {
    const { id, token, walletId } = await paymentUnderReview();
    const res = await http('GET', `/v1/payments/${id}`, { token });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'needs_review');
    assert.equal(res.body.resolution, null);
    assert.equal(res.body.steps.find((st: { step: string }) => st.step === 'pay_biller').status, 'needs_review');
    assert.equal(res.body.steps.find((st: { step: string }) => st.step === 'hold').status, 'succeeded');
    const account = await http('GET', `/v1/accounts/${walletId}`, { token });
    assert.equal(account.body.balances.available, String(50_000 - 10_000 - 50));
    await resolve(id, { outcome: 'not_paid', note: 'cleanup' });
  });

  it('an operator resolves it as paid: 200 with the payment succeeded and the resolution', async () => {
    const { id, token } = await paymentUnderReview();
    const res = await resolve(id, { outcome: 'paid', note: 'BrightGrid confirmed receipt' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'succeeded');
    assert.equal(res.body.resolution.outcome, 'paid');
    assert.equal(res.body.resolution.note, 'BrightGrid confirmed receipt');
    assert.equal((await http('GET', `/v1/payments/${id}`, { token })).body.steps.find((st: { step: string }) => st.step === 'post').status, 'succeeded');
  });

  it('an operator resolves it as not paid: the payment fails and the money is available again', async () => {
    const { id, token, walletId } = await paymentUnderReview();
    const res = await resolve(id, { outcome: 'not_paid', note: 'no record at the biller' });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.status, res.body.failureReason], ['failed', 'biller_not_paid']);
    assert.equal((await http('GET', `/v1/accounts/${walletId}`, { token })).body.balances.available, '50000');
  });

  it('the same resolution again answers the payment as it is; the other one is 409 payment_not_in_review', async () => {
    const { id } = await paymentUnderReview();
    await resolve(id, { outcome: 'not_paid', note: 'no record' });
    const again = await resolve(id, { outcome: 'not_paid', note: 'no record' });
    assert.equal(again.status, 200);
    const other = await resolve(id, { outcome: 'paid', note: 'changed my mind' });
    assert.equal(other.status, 409);
    assert.equal(other.body.type, 'payment_not_in_review');
  });

  it('needs the service token: a customer is refused', async () => {
    const { id, token } = await paymentUnderReview();
    const res = await resolve(id, { outcome: 'paid', note: 'I paid it, honest' }, token);
    assert.ok(res.status === 401 || res.status === 403, `got ${res.status}`);
    assert.equal((await http('GET', `/v1/payments/${id}`, { token })).body.status, 'needs_review');
    await resolve(id, { outcome: 'not_paid', note: 'cleanup' });
  });

  it('an outcome other than paid or not_paid is a 400 naming outcome', async () => {
    const res = await resolve(randomUUID(), { outcome: 'refunded', note: 'x' });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'outcome');
  });

  it('a payment that never needed review is 409 payment_not_in_review', async () => {
    const user = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const walletId = (await http('GET', '/v1/accounts', { token: user.accessToken })).body.data[0].id as string;
    await deposit(s.db, walletId, 50_000n);
    const paid = await http('POST', '/v1/payments', {
      token: user.accessToken,
      headers: { 'idempotency-key': randomUUID() },
      body: { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '1000', fromAccountId: walletId },
    });
    assert.equal(paid.body.status, 'succeeded');
    const res = await resolve(paid.body.id, { outcome: 'not_paid', note: 'wrong payment' });
    assert.equal(res.status, 409);
    assert.equal(res.body.type, 'payment_not_in_review');
  });

  it('an unknown payment is 404', async () => {
    assert.equal((await resolve(randomUUID(), { outcome: 'paid', note: 'x' })).status, 404);
  });
});
