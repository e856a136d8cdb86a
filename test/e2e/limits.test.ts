import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { parseLimits, type Limits } from '../../src/limits/limits';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { appPorts, createPorts } from '../../src/worker/deps';
import { client, type HttpResponse } from '../helpers/http';
import { deposit, uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { signUpVerified } from '../helpers/users';

/**
 * Per-transaction and daily limits (docs/security.md, "Limits") over HTTP, on an API of
 * its own with tight limits, sharing the stack's PostgreSQL, Temporal and worker:
 * funding 100.00 / 250.00, transfers 50.00 / 80.00, payments 200.00 / 300.00.
 */
const LIMITS =
  'USD.funding.per_transaction=10000,USD.funding.daily=25000,' +
  'USD.transfer.per_transaction=5000,USD.transfer.daily=8000,' +
  'USD.payment.per_transaction=20000,USD.payment.daily=30000';

describe('limits (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let server: Server;
  let temporal: Client;
  let http: ReturnType<typeof client>;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    const limits = (parseLimits(LIMITS) as { limits: Limits }).limits;
    temporal = createClient(s.config.temporal);
    server = createApp({ ...s.config, limits }, { db: s.db, temporal, logger: createLogger(s.config), ...appPorts(createPorts(s.config, { db: s.db })) }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    http = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await temporal.connection.close();
  });

  /** A customer with a verified email, so others can send them money. */
  async function customer(balanceMinor = 0n) {
    const user = await signUpVerified(s.baseUrl, s.db, { phone: uniquePhone() });
    const accounts = await http('GET', '/v1/accounts', { token: user.accessToken });
    const walletId = accounts.body.data[0].id as string;
    if (balanceMinor > 0n) await deposit(s.db, walletId, balanceMinor);
    return { ...user, walletId };
  }

  const post = (token: string, path: string, body: object) => http('POST', path, { token, body, headers: { 'idempotency-key': randomUUID() } });
  const fund = (token: string, walletId: string, amount: string, cardToken = 'tok_success') =>
    post(token, '/v1/wallet/fund', { accountId: walletId, amount, currency: 'USD', source: { type: 'card', token: cardToken } });
  const pay = (token: string, walletId: string, amount: string) =>
    post(token, '/v1/payments', { billerId: 'brightgrid-power', customerRef: '4820193755', amount, fromAccountId: walletId });
  const available = async (token: string, accountId: string) => (await http('GET', `/v1/accounts/${accountId}`, { token })).body.balances.available as string;

  /** The answer is a 422 limit_exceeded problem naming `amount` and the limit. */
  function assertLimitExceeded(res: HttpResponse, limit: string): void {
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(res.body.type, 'limit_exceeded');
    assert.deepEqual(
      res.body.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
      [['amount', limit]],
    );
  }

  describe('per transaction', () => {
    it('refuses a funding over the limit, and nothing is charged', async () => {
      const ada = await customer();
      const res = await fund(ada.accessToken, ada.walletId, '10001');
      assertLimitExceeded(res, 'funding.per_transaction');
      assert.equal((await s.db('wallet_fundings').where({ user_id: ada.user.id })).length, 0);
    });

    it('refuses a transfer over the limit, and nothing moves', async () => {
      const [ada, grace] = await Promise.all([customer(100_000n), customer()]);
      const res = await post(ada.accessToken, '/v1/transfers', { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '5001' });
      assertLimitExceeded(res, 'transfer.per_transaction');
      assert.equal(await available(ada.accessToken, ada.walletId), '100000');
    });

    it('refuses a payment over the limit before any workflow starts', async () => {
      const ada = await customer(100_000n);
      const res = await pay(ada.accessToken, ada.walletId, '20001');
      assertLimitExceeded(res, 'payment.per_transaction');
      assert.equal((await s.db('payments').where({ user_id: ada.user.id })).length, 0);
    });
  });

  describe('daily', () => {
    it('a series of fundings: the one that crosses the daily limit is refused', async () => {
      const ada = await customer();
      assert.equal((await fund(ada.accessToken, ada.walletId, '10000')).status, 201);
      assert.equal((await fund(ada.accessToken, ada.walletId, '10000')).status, 201);
      assertLimitExceeded(await fund(ada.accessToken, ada.walletId, '10000'), 'funding.daily');
      assert.equal((await fund(ada.accessToken, ada.walletId, '5000')).status, 201, 'what is left of the day still fits');
    });

    it('concurrent fundings that together exceed the daily limit: only those that fit succeed', async () => {
      const ada = await customer();
      const answers = await Promise.all(Array.from({ length: 6 }, () => fund(ada.accessToken, ada.walletId, '10000')));
      const statuses = answers.map((res) => res.status).sort();
      assert.deepEqual(statuses, [201, 201, 422, 422, 422, 422]);
      for (const res of answers.filter((r) => r.status === 422)) assertLimitExceeded(res, 'funding.daily');
      assert.equal(await available(ada.accessToken, ada.walletId), '20000');
    });

    it('a declined funding gives its amount back to the day', async () => {
      const ada = await customer();
      const declined = await fund(ada.accessToken, ada.walletId, '10000', 'tok_decline');
      assert.equal(declined.body.status, 'failed');
      assert.equal((await fund(ada.accessToken, ada.walletId, '10000')).status, 201);
      assert.equal((await fund(ada.accessToken, ada.walletId, '10000')).status, 201);
    });

    it('concurrent transfers that together exceed the daily limit: only those that fit move money', async () => {
      const [ada, grace] = await Promise.all([customer(100_000n), customer()]);
      const send = () => post(ada.accessToken, '/v1/transfers', { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '3000' });
      const answers = await Promise.all([send(), send(), send(), send()]);
      assert.deepEqual(answers.map((res) => res.status).sort(), [201, 201, 422, 422]);
      for (const res of answers.filter((r) => r.status === 422)) assertLimitExceeded(res, 'transfer.daily');
      assert.equal(await available(grace.accessToken, grace.walletId), '6000');
    });

    it('concurrent payments that together exceed the daily limit: only those that fit are paid', async () => {
      const ada = await customer(100_000n);
      const answers = await Promise.all([pay(ada.accessToken, ada.walletId, '12000'), pay(ada.accessToken, ada.walletId, '12000'), pay(ada.accessToken, ada.walletId, '12000')]);
      assert.deepEqual(answers.map((res) => res.status).sort(), [201, 201, 422]);
      assertLimitExceeded(answers.find((r) => r.status === 422) as HttpResponse, 'payment.daily');
      const paid = await s.db('payments').where({ user_id: ada.user.id, status: 'succeeded' });
      assert.equal(paid.length, 2);
    });
  });
});
