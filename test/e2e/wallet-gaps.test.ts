import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLedger } from '../../src/ledger/service';
import type { Ledger } from '../../src/ledger/types';
import { onBusinessEvent, type BusinessEvent } from '../../src/observability/business-events';
import { cashbackAccountIdOf } from '../../src/payments/cashback-accounts';
import { client } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { createOperator, logIn, outboxCode, signUpAndLogin, signUpVerified, type SignedIn } from '../helpers/users';

/**
 * Issue 13 over HTTP on the full stack: spending and redeeming cashback, retrying a
 * failed payment. BrightGrid Power charges a 0.50 fee and pays 1.50 % cashback (+0.50 %
 * from 50.00); the sandbox biller's outcome is scripted by the reference's last digits.
 */
describe('wallet gaps: cashback, retries, operator views, profile and password (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let ledger: Ledger;
  let http: ReturnType<typeof client>;

  async function fund(accountId: string, amountMinor: bigint) {
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: accountId, amountMinor, currency: 'USD', code: 'bank_deposit' });
  }

  /** A signed-in customer with `walletMinor` in the wallet and `cashbackMinor` of cashback. */
  async function customer(walletMinor: bigint, cashbackMinor = 0n) {
    const user = await signUpAndLogin(s.baseUrl);
    const wallet = (await ledger.listAccounts(user.user.id)).find((a) => a.type === 'wallet')!.id;
    if (walletMinor > 0n) await fund(wallet, walletMinor);
    const cashback = await ledger.openAccount({ id: cashbackAccountIdOf(user.user.id, 'USD'), ownerUserId: user.user.id, type: 'cashback', currency: 'USD' });
    if (cashbackMinor > 0n) await fund(cashback.id, cashbackMinor);
    return { user, wallet, cashback: cashback.id };
  }

  const post = (user: SignedIn, path: string, body?: Record<string, unknown>, key: string | null = randomUUID()) =>
    http('POST', path, { token: user.accessToken, headers: key ? { 'idempotency-key': key } : {}, ...(body ? { body } : {}) });
  const bill = (script: string, fromAccountId: string, overrides: Record<string, unknown> = {}) => ({
    billerId: 'brightgrid-power',
    customerRef: `48201937${script}`,
    amount: '2500',
    fromAccountId,
    ...overrides,
  });
  const available = async (accountId: string) => (await ledger.getAccount(accountId))!.balances.availableMinor;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    ledger = createLedger(s.db);
    http = client(s.baseUrl);
  });

  afterEach(async () => {
    for (const row of await ledger.trialBalance()) {
      assert.equal(row.posted.differenceMinor, 0n, `posted ${row.currency}`);
      assert.equal(row.pending.differenceMinor, 0n, `pending ${row.currency}`);
    }
  });

  describe('paying with cashback', () => {
    it('the quote shows what cashback and the account would pay', async () => {
      const { user, wallet } = await customer(10_000n, 1_000n);
      const res = await post(user, '/v1/payments/quote', bill('55', wallet, { useCashback: true }), null);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // 10.00 of cashback pays 10.00 of the 25.00; 1.50 % of the 15.00 left is 0.22.
      assert.deepEqual(
        { total: res.body.total, cashbackUsed: res.body.cashbackUsed, fromAccount: res.body.fromAccount, cashback: res.body.cashback },
        { total: '2550', cashbackUsed: '1000', fromAccount: '1550', cashback: '22' },
      );
    });

    it('a payment with useCashback takes the cashback first and the wallet the rest', async () => {
      const { user, wallet, cashback } = await customer(10_000n, 1_000n);
      const res = await post(user, '/v1/payments', bill('55', wallet, { useCashback: true }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(
        { status: res.body.status, useCashback: res.body.useCashback, cashbackUsed: res.body.cashbackUsed, cashback: res.body.cashback },
        { status: 'succeeded', useCashback: true, cashbackUsed: '1000', cashback: '22' },
      );
      assert.deepEqual([await available(wallet), await available(cashback)], [10_000n - 1_550n, 22n]);
    });

    it('the wallet need only cover what cashback does not', async () => {
      const { user, wallet } = await customer(1_000n, 2_000n);
      const res = await post(user, '/v1/payments', bill('55', wallet, { useCashback: true }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });

    it('a succeeded payment carries the biller\'s own reference', async () => {
      const { user, wallet } = await customer(10_000n);
      const res = await post(user, '/v1/payments', bill('55', wallet));
      assert.match(res.body.billerReference, /^BRIGHTGRID-/);
    });
  });

  describe('POST /v1/cashback/redeem', () => {
    it('moves cashback to the wallet', async () => {
      const { user, wallet, cashback } = await customer(0n, 1_500n);
      const res = await post(user, '/v1/cashback/redeem', { amount: '1000' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual([res.body.cashbackAvailable, res.body.walletAvailable, await available(wallet), await available(cashback)], ['500', '1000', 1_000n, 500n]);
    });

    it('more than the cashback balance is insufficient_cashback and nothing moves', async () => {
      const { user, wallet, cashback } = await customer(0n, 1_500n);
      const res = await post(user, '/v1/cashback/redeem', { amount: '1501' });
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [422, 'insufficient_cashback', 'amount']);
      assert.deepEqual([await available(wallet), await available(cashback)], [0n, 1_500n]);
    });

    it('a repeat with the same Idempotency-Key redeems once', async () => {
      const { user, cashback } = await customer(0n, 1_500n);
      const key = randomUUID();
      await post(user, '/v1/cashback/redeem', { amount: '1000' }, key);
      await post(user, '/v1/cashback/redeem', { amount: '1000' }, key);
      assert.equal(await available(cashback), 500n);
    });
  });

  describe('POST /v1/payments/{id}/retry', () => {
    it('a failed payment is retried as a new attempt linked to the first', async () => {
      const { user, wallet } = await customer(10_000n);
      const failed = await post(user, '/v1/payments', bill('01', wallet));
      assert.equal(failed.body.status, 'failed', JSON.stringify(failed.body));
      const retried = await post(user, `/v1/payments/${failed.body.id}/retry`);
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      assert.deepEqual(
        { retryOf: retried.body.retryOf, attempts: retried.body.attempts.map((a: { id: string }) => a.id) },
        { retryOf: failed.body.id, attempts: [failed.body.id, retried.body.id] },
      );
    });

    it('the first attempt lists the retry among its attempts', async () => {
      const { user, wallet } = await customer(10_000n);
      const failed = await post(user, '/v1/payments', bill('01', wallet));
      const retried = await post(user, `/v1/payments/${failed.body.id}/retry`);
      const first = await http('GET', `/v1/payments/${failed.body.id}`, { token: user.accessToken });
      assert.deepEqual(first.body.attempts.map((a: { id: string }) => a.id), [failed.body.id, retried.body.id]);
    });

    it('a succeeded payment is not retryable and nothing moves', async () => {
      const { user, wallet } = await customer(10_000n);
      const paid = await post(user, '/v1/payments', bill('55', wallet));
      const before = await available(wallet);
      const res = await post(user, `/v1/payments/${paid.body.id}/retry`);
      assert.deepEqual([res.status, res.body.type, await available(wallet)], [409, 'payment_not_retryable', before]);
    });

    it('a failed attempt whose bill another attempt has paid is not retried again', async () => {
      const { user, wallet } = await customer(10_000n);
      const failed = await post(user, '/v1/payments', bill('01', wallet));
      const retried = await post(user, `/v1/payments/${failed.body.id}/retry`);
      // The sandbox declines this reference every time: the retry's success is written here.
      await s.db('payments').where({ id: retried.body.id }).update({ status: 'succeeded', failure_reason: null });
      const again = await post(user, `/v1/payments/${failed.body.id}/retry`);
      assert.deepEqual([again.status, again.body.type], [409, 'payment_not_retryable']);
    });

    it('a bill whose attempts all failed may be retried again, as the next attempt', async () => {
      const { user, wallet } = await customer(10_000n);
      const failed = await post(user, '/v1/payments', bill('01', wallet));
      await post(user, `/v1/payments/${failed.body.id}/retry`);
      const third = await post(user, `/v1/payments/${failed.body.id}/retry`);
      assert.deepEqual(third.body.attempts.map((a: { attempt: number }) => a.attempt), [1, 2, 3]);
    });

    it('another customer\'s payment is not found', async () => {
      const { user, wallet } = await customer(10_000n);
      const failed = await post(user, '/v1/payments', bill('01', wallet));
      const other = await signUpAndLogin(s.baseUrl);
      const res = await post(other, `/v1/payments/${failed.body.id}/retry`);
      assert.equal(res.status, 404);
    });
  });

  describe('operator views', () => {
    let operator: SignedIn;
    before(async () => {
      operator = await createOperator(s.baseUrl, s.db);
    });
    const get = (path: string) => http('GET', path, { token: operator.accessToken });

    it('GET /internal/v1/payments filters by customer and status, each linked to its workflows in the Web UI', async () => {
      const { user, wallet } = await customer(10_000n);
      const failed = await post(user, '/v1/payments', bill('01', wallet));
      await post(user, '/v1/payments', bill('55', wallet));
      const res = await get(`/internal/v1/payments?userId=${user.user.id}&status=failed`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.data.map((p: { id: string }) => p.id), [failed.body.id]);
      assert.equal(res.body.data[0].temporalUrl.endsWith(`/workflows?query=${encodeURIComponent(`PaymentId="${failed.body.id}"`)}`), true, res.body.data[0].temporalUrl);
    });

    it('needsReview=true lists only payments an operator must act on', async () => {
      const { user, wallet } = await customer(10_000n);
      const paid = await post(user, '/v1/payments', bill('55', wallet));
      await s.db('payment_steps').insert({ payment_id: paid.body.id, step: 'cashback', status: 'compensation_failed', reason: 'test' });
      await post(user, '/v1/payments', bill('56', wallet));
      const res = await get(`/internal/v1/payments?userId=${user.user.id}&needsReview=true`);
      assert.deepEqual(res.body.data.map((p: { id: string }) => p.id), [paid.body.id]);
    });

    it('GET /internal/v1/payments pages with a cursor', async () => {
      const { user, wallet } = await customer(10_000n);
      for (const script of ['55', '56', '57']) await post(user, '/v1/payments', bill(script, wallet));
      const first = await get(`/internal/v1/payments?userId=${user.user.id}&limit=2`);
      const second = await get(`/internal/v1/payments?userId=${user.user.id}&limit=2&cursor=${first.body.nextCursor}`);
      assert.deepEqual([first.body.data.length, second.body.data.length, second.body.nextCursor], [2, 1, null]);
    });

    it('a date range excludes payments made outside it', async () => {
      const { user, wallet } = await customer(10_000n);
      await post(user, '/v1/payments', bill('55', wallet));
      const res = await get(`/internal/v1/payments?userId=${user.user.id}&to=2020-01-01T00:00:00Z`);
      assert.deepEqual(res.body.data, []);
    });

    it('GET /internal/v1/users/{id} shows accounts, recent payments, messages and the Web UI search', async () => {
      const { user, wallet } = await customer(10_000n);
      const paid = await post(user, '/v1/payments', bill('55', wallet));
      const res = await get(`/internal/v1/users/${user.user.id}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        {
          id: res.body.user.id,
          wallet: res.body.accounts.some((a: { id: string }) => a.id === wallet),
          payments: res.body.recentPayments.map((p: { id: string }) => p.id),
          messages: res.body.recentNotifications.length > 0,
          ui: res.body.temporalUrl.endsWith(encodeURIComponent(`CustomerId="${user.user.id}"`)),
        },
        { id: user.user.id, wallet: true, payments: [paid.body.id], messages: true, ui: true },
      );
    });

    it('an unknown user is user_not_found', async () => {
      const res = await get(`/internal/v1/users/${randomUUID()}`);
      assert.deepEqual([res.status, res.body.type], [404, 'user_not_found']);
    });
  });

  describe('profile and password', () => {
    const NEW_PASSWORD = 'a brand new passphrase 7';
    const patch = (user: SignedIn, body: Record<string, unknown>) => http('PATCH', '/v1/me', { token: user.accessToken, body });
    const refresh = (refreshToken: string) => http('POST', '/v1/auth/refresh', { body: { refreshToken } });
    /** The code of the user's latest password reset, from the email in the outbox. */
    async function resetCode(userId: string): Promise<string> {
      const row = await s.db('password_resets').where({ user_id: userId }).first('id');
      const message = await s.db('notifications').where({ dedupe_key: `password-reset:${row.id}` }).first('body');
      return /\b(\d{6})\b/.exec(message.body)![1]!;
    }

    it('PATCH /v1/me changes the name and timezone at once', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const res = await patch(user, { name: 'Ada King', timezone: 'Europe/Stockholm' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.user.name, res.body.user.timezone], ['Ada King', 'Europe/Stockholm']);
    });

    it('an empty change is a validation error and changes nothing', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const res = await patch(user, {});
      assert.deepEqual([res.status, res.body.type], [400, 'validation_error']);
    });

    it('an unknown timezone is a validation error naming the field', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const res = await patch(user, { timezone: 'Mars/Olympus' });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'timezone']);
    });

    it('a new email is not applied until the code sent to it is confirmed', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const email = `new-${randomUUID()}@example.com`;
      const res = await patch(user, { email });
      assert.deepEqual([res.body.user.email, res.body.pendingVerifications[0].channel], [user.user.email, 'email']);
    });

    it('confirming the code sent to a new email makes it the account\'s, verified', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const email = `new-${randomUUID()}@example.com`;
      await patch(user, { email });
      const code = await outboxCode(s.db, user.accessToken, 'email');
      const res = await http('POST', '/v1/me/verifications/confirm', { token: user.accessToken, body: { channel: 'email', code } });
      assert.deepEqual([res.status, res.body.email, res.body.emailVerified], [200, email, true]);
    });

    it('another account\'s email is refused', async () => {
      const [user, other] = await Promise.all([signUpAndLogin(s.baseUrl), signUpAndLogin(s.baseUrl)]);
      const res = await patch(user, { email: other.user.email });
      assert.deepEqual([res.status, res.body.errors[0].code], [400, 'email_taken']);
    });

    it('POST /v1/me/password with the right password revokes every other session', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const other = await logIn(s.baseUrl, user.user.email, user.password);
      const res = await post(user, '/v1/me/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, null);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([(await refresh(other.refreshToken)).status, (await refresh(res.body.refreshToken)).status], [401, 200]);
    });

    it('the new password logs in after a change', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      await post(user, '/v1/me/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, null);
      const login = await http('POST', '/v1/auth/login', { body: { email: user.user.email, password: NEW_PASSWORD } });
      assert.equal(login.status, 200);
    });

    it('a wrong current password is current_password_incorrect and changes nothing', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const res = await post(user, '/v1/me/password', { currentPassword: 'not my password at all', newPassword: NEW_PASSWORD }, null);
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [422, 'current_password_incorrect', 'currentPassword']);
      assert.equal((await refresh(user.refreshToken)).status, 200);
    });

    it('a reset request answers the same for an unknown address and a known one', async () => {
      const user = await signUpVerified(s.baseUrl, s.db);
      const known = await http('POST', '/v1/auth/password-reset', { body: { email: user.user.email } });
      const unknown = await http('POST', '/v1/auth/password-reset', { body: { email: `nobody-${randomUUID()}@example.com` } });
      assert.deepEqual([unknown.status, unknown.body], [known.status, known.body]);
    });

    it('the code sent to the verified email sets a new password and ends every session', async () => {
      const user = await signUpVerified(s.baseUrl, s.db);
      await http('POST', '/v1/auth/password-reset', { body: { email: user.user.email } });
      const code = await resetCode(user.user.id);
      const res = await http('POST', '/v1/auth/password-reset/confirm', { body: { email: user.user.email, code, newPassword: NEW_PASSWORD } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([(await refresh(user.refreshToken)).status, (await logIn(s.baseUrl, user.user.email, NEW_PASSWORD)).accessToken.length > 0], [401, true]);
    });

    it('a wrong reset code is verification_failed and the password stays', async () => {
      const user = await signUpVerified(s.baseUrl, s.db);
      await http('POST', '/v1/auth/password-reset', { body: { email: user.user.email } });
      const code = await resetCode(user.user.id);
      const wrong = code === '000000' ? '000001' : '000000';
      const res = await http('POST', '/v1/auth/password-reset/confirm', { body: { email: user.user.email, code: wrong, newPassword: NEW_PASSWORD } });
      assert.deepEqual([res.status, res.body.type], [422, 'verification_failed']);
      assert.equal((await http('POST', '/v1/auth/login', { body: { email: user.user.email, password: user.password } })).status, 200);
    });

    it('an unverified email gets no reset code', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      await http('POST', '/v1/auth/password-reset', { body: { email: user.user.email } });
      assert.equal(await s.db('password_resets').where({ user_id: user.user.id }).first(), undefined);
    });
  });

  describe('metrics', () => {
    const scrape = async () => (await fetch(`${s.baseUrl}/metrics`)).text();
    const sample = (text: string, name: string, labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((label) => l.includes(label)));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };

    it('GET /metrics counts requests by route pattern and status', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const before = sample(await scrape(), 'finflow_http_requests_total', 'route="/v1/payments/:id",status="404"');
      await http('GET', `/v1/payments/${randomUUID()}`, { token: user.accessToken });
      assert.equal(sample(await scrape(), 'finflow_http_requests_total', 'route="/v1/payments/:id",status="404"'), before + 1);
    });

    it('latency is a histogram per route', async () => {
      assert.match(await scrape(), /finflow_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/v1\/payments\/:id"\}/);
    });

    it('a replayed Idempotency-Key is counted', async () => {
      const { user } = await customer(0n, 1_500n);
      const key = randomUUID();
      const before = sample(await scrape(), 'finflow_idempotency_replays_total', 'route="/v1/cashback/redeem"');
      await post(user, '/v1/cashback/redeem', { amount: '100' }, key);
      await post(user, '/v1/cashback/redeem', { amount: '100' }, key);
      assert.equal(sample(await scrape(), 'finflow_idempotency_replays_total', 'route="/v1/cashback/redeem"'), before + 1);
    });

    it('a rate-limit refusal is counted', async () => {
      const user = await signUpAndLogin(s.baseUrl);
      const before = sample(await scrape(), 'finflow_rate_limit_refusals_total', 'route="/v1/auth/login"');
      let status = 0;
      for (let i = 0; i < 20 && status !== 429; i++) {
        status = (await http('POST', '/v1/auth/login', { body: { email: user.user.email, password: 'wrong password again' } })).status;
      }
      assert.equal(sample(await scrape(), 'finflow_rate_limit_refusals_total', 'route="/v1/auth/login"'), before + 1);
    });

    it('a payment emits the business events the worker counts: its outcome, its transfers, its SMS', async () => {
      const events: BusinessEvent[] = [];
      const stop = onBusinessEvent((event) => events.push(event));
      try {
        const { user, wallet } = await customer(10_000n);
        await post(user, '/v1/payments', bill('55', wallet));
      } finally {
        stop();
      }
      const seen = new Set(events.map((e) => (e.kind === 'payment_finished' ? `payment:${e.outcome}` : e.kind === 'ledger_transfer' ? `transfer:${e.code}:${e.transferKind}` : `message:${e.channel}`)));
      for (const expected of ['payment:succeeded', 'transfer:bill_payment:pending', 'transfer:bill_payment:post_pending', 'message:sms']) assert.ok(seen.has(expected), `${expected} in ${[...seen].join(', ')}`);
    });
  });
});
