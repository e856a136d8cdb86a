import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLedger } from '../../src/ledger/service';
import { insertPayment, paymentIdFrom, type NewPayment } from '../../src/payments/repository';
import { workflowIds } from '../../src/temporal/names';
import type { Ledger } from '../../src/ledger/types';
import { client } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { signUpAndLogin, type SignedIn } from '../helpers/users';
import { eventually } from '../helpers/wait';

/**
 * Payments over HTTP on the full stack: embedded PostgreSQL, the Temporal dev server,
 * the worker and the API. The sandbox biller is scripted by the reference's last two
 * digits (docs/payments.md); BrightGrid Power charges a 0.50 fee.
 */
describe('payments (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let ledger: Ledger;
  let http: ReturnType<typeof client>;
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceWallet: string;

  /** Puts money on an account as a bank deposit would. */
  async function fund(accountId: string, amountMinor: bigint, currency = 'USD') {
    const clearing = await ledger.ensureSystemAccount('funding_clearing', currency);
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: accountId, amountMinor, currency, code: 'bank_deposit' });
  }

  const payBill = (user: SignedIn, body: Record<string, unknown>, key = randomUUID()) =>
    http('POST', '/v1/payments', { token: user.accessToken, headers: { 'idempotency-key': key }, body });
  const billBody = (script: string, overrides: Record<string, unknown> = {}) => ({
    billerId: 'brightgrid-power',
    customerRef: `48201937${script}`,
    amount: '2500',
    fromAccountId: aliceWallet,
    ...overrides,
  });
  const stepStatuses = (payment: { steps: Array<{ step: string; status: string }> }) => payment.steps.map((st) => `${st.step}:${st.status}`);

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    ledger = createLedger(s.db);
    http = client(s.baseUrl);
    [alice, bob] = await Promise.all([signUpAndLogin(s.baseUrl), signUpAndLogin(s.baseUrl)]);
    aliceWallet = (await ledger.listAccounts(alice.user.id)).find((a) => a.type === 'wallet')!.id;
    await fund(aliceWallet, 100_000n);
  });

  afterEach(async () => {
    for (const row of await ledger.trialBalance()) {
      assert.equal(row.posted.differenceMinor, 0n, `posted ${row.currency}`);
      assert.equal(row.pending.differenceMinor, 0n, `pending ${row.currency}`);
    }
  });

  describe('POST /v1/payments', () => {
    it('pays a bill and answers the final payment with every step', async () => {
      const res = await payBill(alice, billBody('55'));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.headers.get('location'), `/v1/payments/${res.body.id}`);
      assert.deepEqual(
        { status: res.body.status, amount: res.body.amount, fee: res.body.fee, total: res.body.total, cashback: res.body.cashback },
        { status: 'succeeded', amount: '2500', fee: '50', total: '2550', cashback: '37' },
      );
      // The payment is final once the money moved; its notice may still be on its way.
      assert.deepEqual(stepStatuses(res.body).slice(0, 5), ['validate', 'hold', 'pay_biller', 'post', 'cashback'].map((st) => `${st}:succeeded`));
      assert.ok(['notify:pending', 'notify:succeeded'].includes(stepStatuses(res.body)[5] ?? ''), stepStatuses(res.body).join(', '));
      const payBiller = res.body.steps[2];
      assert.deepEqual(
        payBiller.history.map((h: { status: string }) => h.status),
        ['running', 'succeeded'],
      );
      assert.match(payBiller.reason, /^biller reference BRIGHTGRID-/);
      // How its workflow starts was written with its row, for a start that never happens.
      const start = await s.db('request_starts').where({ request_id: res.body.id }).first();
      assert.deepEqual([start?.workflow_type, start?.with_outcome, start?.input.paymentId], ['payBillV3', true, res.body.id]);

      const got = await eventually('the notice recorded', async () => {
        const read = await http('GET', `/v1/payments/${res.body.id}`, { token: alice.accessToken });
        return read.body.steps?.[5]?.status === 'succeeded' ? read : undefined;
      });
      assert.equal(got.status, 200);
      const settled = (body: Record<string, unknown> & { steps: unknown[] }) => ({ ...body, steps: body.steps.slice(0, 5), updatedAt: undefined });
      assert.deepEqual(settled(got.body), settled(res.body));
    });

    it('shows a failed payment with its compensation', async () => {
      const res = await payBill(alice, billBody('01'));
      assert.equal(res.status, 201);
      assert.deepEqual({ status: res.body.status, reason: res.body.failureReason }, { status: 'failed', reason: 'biller_declined' });
      assert.deepEqual(stepStatuses(res.body), [
        'validate:succeeded',
        'hold:compensated',
        'pay_biller:failed',
        'post:skipped',
        'cashback:skipped',
        'notify:succeeded',
      ]);
      const hold = res.body.steps[1];
      assert.deepEqual(
        hold.history.map((h: { status: string }) => h.status),
        ['succeeded', 'compensated'],
      );
      assert.match(res.body.steps[2].reason, /account_suspended/);
    });

    it('answers a repeat of the same key with the first payment, and refuses the key for another body', async () => {
      const key = randomUUID();
      const first = await payBill(alice, billBody('63'), key);
      const again = await payBill(alice, billBody('63'), key);
      assert.equal(again.status, first.status);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const other = await payBill(alice, billBody('63', { amount: '2600' }), key);
      assert.equal(other.status, 422);
      assert.equal(other.body.type, 'idempotency_key_reused');
    });

    it('starts the workflow of a payment recorded by an API process that died before starting it, when the request comes again', async () => {
      // What a killed API leaves: the payment's row, claimed as `processing`, and no workflow.
      const key = randomUUID();
      const workflowId = workflowIds.payment(alice.user.id, key);
      const body = billBody('55');
      const payment: NewPayment = {
        id: paymentIdFrom(workflowId),
        userId: alice.user.id,
        kind: 'bill',
        billerId: body.billerId,
        customerRef: body.customerRef,
        fromAccountId: aliceWallet,
        toAccountId: null,
        amountMinor: body.amount,
        currency: 'USD',
        workflowId,
        recurringPaymentId: null,
        period: null,
      };
      assert.equal(await insertPayment(s.db, payment), true);
      const res = await payBill(alice, body, key);
      assert.deepEqual([res.status, res.body.id, res.body.status], [200, payment.id, 'succeeded'], JSON.stringify(res.body));
    });

    it('answers a repeat of a payment that has spent the balance with that payment, not insufficient_funds', async () => {
      const carol = await signUpAndLogin(s.baseUrl);
      const wallet = (await ledger.listAccounts(carol.user.id)).find((a) => a.type === 'wallet')!.id;
      await fund(wallet, 2_550n);
      const key = randomUUID();
      const first = await payBill(carol, billBody('55', { fromAccountId: wallet }), key);
      assert.equal(first.body.status, 'succeeded', JSON.stringify(first.body));
      // The stored answer is gone (its 24 h passed, or the first answer was an outage): the request runs again.
      await s.db('idempotency_keys').where({ key }).delete();
      const again = await payBill(carol, billBody('55', { fromAccountId: wallet }), key);
      assert.deepEqual([again.status, again.body.id, again.body.status], [200, first.body.id, 'succeeded'], JSON.stringify(again.body));
    });

    it('requires an Idempotency-Key', async () => {
      const res = await http('POST', '/v1/payments', { token: alice.accessToken, body: billBody('55') });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors[0].field, 'Idempotency-Key');
    });

    describe('refuses before any workflow starts', () => {
      const cases: Array<[string, () => Record<string, unknown>, number, string, string]> = [
        ['an unknown biller', () => billBody('55', { billerId: 'no-such-biller' }), 404, 'biller_not_found', 'billerId'],
        ['a reference not in the biller\'s format', () => billBody('55', { customerRef: 'ABC' }), 400, 'validation_error', 'customerRef'],
        ['an amount below the biller\'s minimum', () => billBody('55', { amount: '499' }), 422, 'amount_out_of_range', 'amount'],
        ['an account that is not the caller\'s', () => billBody('55', { fromAccountId: randomUUID() }), 404, 'account_not_found', 'fromAccountId'],
        ['more than the balance can cover with the fee', () => billBody('55', { amount: '500000' }), 422, 'insufficient_funds', 'amount'],
      ];
      for (const [what, body, status, type, field] of cases) {
        it(`${what}: ${status} ${type} naming ${field}`, async () => {
          const before = await s.db('payments').where({ user_id: alice.user.id }).count<{ count: string }[]>('* as count');
          const res = await payBill(alice, body());
          assert.equal(res.status, status, JSON.stringify(res.body));
          assert.equal(res.body.type, type);
          assert.equal(res.body.errors[0].field, field);
          const after = await s.db('payments').where({ user_id: alice.user.id }).count<{ count: string }[]>('* as count');
          assert.equal(after[0]!.count, before[0]!.count, 'no payment was created');
        });
      }

      it('an account in another currency: 422 currency_mismatch naming fromAccountId', async () => {
        const euros = await ledger.openAccount({ ownerUserId: alice.user.id, type: 'savings', currency: 'EUR' });
        const res = await payBill(alice, billBody('55', { fromAccountId: euros.id }));
        assert.equal(res.status, 422);
        assert.equal(res.body.type, 'currency_mismatch');
        assert.equal(res.body.errors[0].field, 'fromAccountId');
      });
    });
  });

  describe('GET /v1/payments', () => {
    it('lists the caller\'s payments newest first, a page at a time', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const wallet = (await ledger.listAccounts(user.user.id)).find((a) => a.type === 'wallet')!.id;
      await fund(wallet, 20_000n);
      const made: string[] = [];
      for (const script of ['70', '71', '72']) {
        const res = await payBill(user, billBody(script, { fromAccountId: wallet, amount: '1000' }));
        made.push(res.body.id);
      }
      const first = await http('GET', '/v1/payments?limit=2', { token: user.accessToken });
      assert.equal(first.status, 200);
      assert.deepEqual(first.body.data.map((p: { id: string }) => p.id), [made[2], made[1]]);
      const second = await http('GET', `/v1/payments?limit=2&cursor=${first.body.nextCursor}`, { token: user.accessToken });
      assert.deepEqual(second.body.data.map((p: { id: string }) => p.id), [made[0]]);
      assert.equal(second.body.nextCursor, null);
    });
  });

  describe('POST /v1/payments/{id}/cancel', () => {
    it('refuses to cancel a payment that has ended', async () => {
      const paid = await payBill(alice, billBody('64'));
      const res = await http('POST', `/v1/payments/${paid.body.id}/cancel`, { token: alice.accessToken });
      assert.equal(res.status, 409);
      assert.equal(res.body.type, 'payment_not_cancellable');
    });

    it('refuses once the biller has been called (the workflow\'s validator decides)', async function () {
      this.timeout(30_000);
      // `04`: the biller is unreachable, so the payment sits in pay_biller's retries.
      const paying = await payBill(alice, billBody('04'));
      assert.equal(paying.status, 202);
      assert.equal(paying.body.steps[2].status, 'running');
      const res = await http('POST', `/v1/payments/${paying.body.id}/cancel`, { token: alice.accessToken });
      assert.equal(res.status, 409);
      assert.equal(res.body.type, 'payment_not_cancellable');
      assert.match(res.body.detail, /biller has already been called/);
    });
  });

  describe('POST /v1/accounts/{cardId}/payments', () => {
    it('pays the card from savings and sends exactly two SMS: card credited, savings debited', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const savings = await ledger.openAccount({ ownerUserId: user.user.id, type: 'savings', currency: 'USD' });
      const card = await ledger.openAccount({ ownerUserId: user.user.id, type: 'credit_card', currency: 'USD', creditLimitMinor: 50_000n });
      await fund(savings.id, 30_000n);
      const res = await http('POST', `/v1/accounts/${card.id}/payments`, {
        token: user.accessToken,
        headers: { 'idempotency-key': randomUUID() },
        body: { fromAccountId: savings.id, amount: '12000' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual({ kind: res.body.kind, status: res.body.status, cardId: res.body.cardId }, { kind: 'card', status: 'succeeded', cardId: card.id });
      assert.deepEqual(stepStatuses(res.body), ['validate:succeeded', 'hold:succeeded', 'post:succeeded', 'notify:succeeded']);
      const alerts = await s.db('notifications').where({ user_id: user.user.id, template: 'transaction_alert' });
      assert.equal(alerts.length, 2);
      assert.deepEqual(alerts.map((a) => (a.body as string).match(/(credited to|debited from)/)![1]).sort(), ['credited to', 'debited from']);
      assert.equal((await ledger.getAccount(card.id))!.balances.postedMinor, 12_000n);
      assert.equal((await ledger.getAccount(savings.id))!.balances.postedMinor, 18_000n);
    });

    it('refuses a card that is not the caller\'s (404 naming cardId), a source that is a card and a cardId that is not a card (400)', async () => {
      const bobCard = await ledger.openAccount({ ownerUserId: bob.user.id, type: 'credit_card', currency: 'USD', creditLimitMinor: 1_000n });
      const foreign = await http('POST', `/v1/accounts/${bobCard.id}/payments`, {
        token: alice.accessToken,
        headers: { 'idempotency-key': randomUUID() },
        body: { fromAccountId: aliceWallet, amount: '100' },
      });
      assert.equal(foreign.status, 404);
      assert.deepEqual([foreign.body.type, foreign.body.errors[0].field, foreign.body.errors[0].in], ['account_not_found', 'cardId', 'path']);

      const aliceCard = await ledger.openAccount({ ownerUserId: alice.user.id, type: 'credit_card', currency: 'USD', creditLimitMinor: 1_000n });
      const fromACard = await http('POST', `/v1/accounts/${aliceCard.id}/payments`, {
        token: alice.accessToken,
        headers: { 'idempotency-key': randomUUID() },
        body: { fromAccountId: aliceCard.id, amount: '100' },
      });
      assert.equal(fromACard.status, 400);
      assert.deepEqual([fromACard.body.errors[0].field, fromACard.body.errors[0].code], ['fromAccountId', 'not_a_paying_account']);

      const notACard = await http('POST', `/v1/accounts/${aliceWallet}/payments`, {
        token: alice.accessToken,
        headers: { 'idempotency-key': randomUUID() },
        body: { fromAccountId: aliceWallet, amount: '100' },
      });
      assert.equal(notACard.status, 400);
      assert.deepEqual([notACard.body.errors[0].field, notACard.body.errors[0].code], ['cardId', 'not_a_credit_card']);
    });
  });

  describe('another customer', () => {
    it('cannot read, list or cancel someone else\'s payment (404, existence not revealed)', async () => {
      const paid = await payBill(alice, billBody('65'));
      const read = await http('GET', `/v1/payments/${paid.body.id}`, { token: bob.accessToken });
      assert.equal(read.status, 404);
      const cancel = await http('POST', `/v1/payments/${paid.body.id}/cancel`, { token: bob.accessToken });
      assert.equal(cancel.status, 404);
      const list = await http('GET', '/v1/payments', { token: bob.accessToken });
      assert.ok(!list.body.data.some((p: { id: string }) => p.id === paid.body.id));
      const missing = await http('GET', `/v1/payments/${randomUUID()}`, { token: alice.accessToken });
      assert.deepEqual([missing.status, missing.body.type], [read.status, read.body.type]);
    });
  });
});
