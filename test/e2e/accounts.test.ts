import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLedger } from '../../src/ledger/service';
import { transferIdFrom } from '../../src/ledger/ids';
import type { Ledger, TransferCode } from '../../src/ledger/types';
import { client } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin, type SignedIn } from '../helpers/users';

describe('accounts, dashboard and operator ledger views (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let ledger: Ledger;
  let http: ReturnType<typeof client>;
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceWallet: string;

  /** Credits a wallet from the funding clearing account, as a funding would. */
  async function credit(accountId: string, amountMinor: bigint, description: string, code: TransferCode = 'wallet_funding') {
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({
      id: transferIdFrom(`test-credit:${randomUUID()}`),
      debitAccountId: clearing.id,
      creditAccountId: accountId,
      amountMinor,
      currency: 'USD',
      code,
      metadata: { description },
    });
  }

  before(async () => {
    s = await stack();
    ledger = createLedger(s.db);
    http = client(s.baseUrl);
    [alice, bob] = await Promise.all([signUpAndLogin(s.baseUrl), signUpAndLogin(s.baseUrl)]);
    const accounts = await http('GET', '/v1/accounts', { token: alice.accessToken });
    aliceWallet = accounts.body.data[0].id;
  });

  it('opens one empty USD wallet at signup', async () => {
    const res = await http('GET', '/v1/accounts', { token: bob.accessToken });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.length, 1);
    const [wallet] = res.body.data;
    assert.equal(wallet.type, 'wallet');
    assert.equal(wallet.currency, 'USD');
    assert.deepEqual(wallet.balances, { posted: '0', pending: '0', available: '0' });
    assert.match(wallet.maskedNumber, /^••[0-9a-f]{4}$/);
  });

  it('shows posted, pending and available balances of an account', async () => {
    const { body: before } = await http('GET', '/v1/accounts', { token: bob.accessToken });
    const wallet = before.data[0].id;
    await credit(wallet, 10_000n, 'top-up');
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({
      id: transferIdFrom(`test-hold:${randomUUID()}`),
      kind: 'pending',
      debitAccountId: wallet,
      creditAccountId: clearing.id,
      amountMinor: 2_500n,
      currency: 'USD',
      code: 'bill_payment',
    });
    const res = await http('GET', `/v1/accounts/${wallet}`, { token: bob.accessToken });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.balances, { posted: '10000', pending: '-2500', available: '7500' });
  });

  it("answers 404 for another customer's account, on every account route", async () => {
    for (const path of [`/v1/accounts/${aliceWallet}`, `/v1/accounts/${aliceWallet}/transactions`]) {
      const res = await http('GET', path, { token: bob.accessToken });
      assert.equal(res.status, 404, path);
      assert.equal(res.body.type, 'account_not_found');
    }
  });

  it('answers 404 for a system account', async () => {
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    const res = await http('GET', `/v1/accounts/${clearing.id}`, { token: alice.accessToken });
    assert.equal(res.status, 404);
  });

  it('rejects a malformed account id with 400 naming it', async () => {
    const res = await http('GET', '/v1/accounts/not-a-uuid', { token: alice.accessToken });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'id');
  });

  it('pages transactions newest first without gaps or repeats', async () => {
    const signed = await signUpAndLogin(s.baseUrl);
    const { body } = await http('GET', '/v1/accounts', { token: signed.accessToken });
    const wallet = body.data[0].id;
    for (let i = 1; i <= 5; i++) await credit(wallet, BigInt(i * 100), `credit ${i}`);
    const seen: Array<[string, string]> = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await http('GET', `/v1/accounts/${wallet}/transactions${query}`, { token: signed.accessToken });
      assert.equal(page.status, 200);
      seen.push(...page.body.data.map((t: { description: string; balanceAfter: string }) => [t.description, t.balanceAfter] as [string, string]));
      cursor = page.body.nextCursor;
    } while (cursor);
    // Each line carries the posted balance right after it, on every page.
    assert.deepEqual(seen, [
      ['credit 5', '1500'],
      ['credit 4', '1000'],
      ['credit 3', '600'],
      ['credit 2', '300'],
      ['credit 1', '100'],
    ]);
  });

  it('describes each transaction from the holder side', async () => {
    const signed = await signUpAndLogin(s.baseUrl);
    const wallet = (await http('GET', '/v1/accounts', { token: signed.accessToken })).body.data[0].id;
    await credit(wallet, 4_200n, 'salary');
    const res = await http('GET', `/v1/accounts/${wallet}/transactions`, { token: signed.accessToken });
    assert.deepEqual(
      res.body.data.map((t: any) => [t.direction, t.amount, t.currency, t.code, t.description]),
      [['credit', '4200', 'USD', 'wallet_funding', 'salary']],
    );
  });

  it('filters transactions by date range', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const res = await http('GET', `/v1/accounts/${aliceWallet}/transactions?from=${encodeURIComponent(future)}`, {
      token: alice.accessToken,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
  });

  it('rejects an inverted date range and a foreign cursor with 400', async () => {
    const inverted = await http('GET', `/v1/accounts/${aliceWallet}/transactions?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, {
      token: alice.accessToken,
    });
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.errors[0].field, 'from');
    const cursor = await http('GET', `/v1/accounts/${aliceWallet}/transactions?cursor=bm9wZQ`, { token: alice.accessToken });
    assert.equal(cursor.status, 400);
    assert.equal(cursor.body.errors[0].field, 'cursor');
  });

  it('shows balances and recent activity on the dashboard', async () => {
    await credit(aliceWallet, 1_234n, 'dashboard credit');
    const res = await http('GET', '/v1/me/dashboard', { token: alice.accessToken });
    assert.equal(res.status, 200);
    assert.equal(res.body.accounts[0].id, aliceWallet);
    assert.equal(res.body.recentActivity[0].description, 'dashboard credit');
    assert.deepEqual(res.body.cashbackEarned, []);
    assert.deepEqual(res.body.upcomingRecurringPayments, []);
  });

  it('sums the cashback credited to the customer on the dashboard, and no other credit', async () => {
    await credit(aliceWallet, 125n, 'cashback on a bill', 'cashback');
    await credit(aliceWallet, 40n, 'cashback on another bill', 'cashback');
    await credit(aliceWallet, 9_999n, 'not cashback');
    const res = await http('GET', '/v1/me/dashboard', { token: alice.accessToken });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.cashbackEarned, [{ currency: 'USD', amount: '165' }]);
  });

  it('lets a customer opt out of SMS alerts and back in', async () => {
    const put = await http('PUT', '/v1/me/preferences', { token: alice.accessToken, body: { smsAlerts: false } });
    assert.deepEqual([put.status, put.body], [200, { smsAlerts: false }]);
    assert.deepEqual((await http('GET', '/v1/me/preferences', { token: alice.accessToken })).body, { smsAlerts: false });
    await http('PUT', '/v1/me/preferences', { token: alice.accessToken, body: { smsAlerts: true } });
    const row = await s.db('users').where({ id: alice.user.id }).first('sms_alerts_enabled');
    assert.equal(row.sms_alerts_enabled, true);
  });

  it('rejects a non-boolean preference with 400 naming smsAlerts', async () => {
    const res = await http('PUT', '/v1/me/preferences', { token: alice.accessToken, body: { smsAlerts: 'no' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'smsAlerts');
  });

  describe('operator views', () => {
    it('serves a trial balance whose difference is 0 in every currency', async () => {
      await credit(aliceWallet, 77n, 'trial');
      const res = await http('GET', '/internal/v1/ledger/trial-balance', { token: s.config.auth.serviceToken });
      assert.equal(res.status, 200);
      const usd = res.body.data.find((r: { currency: string }) => r.currency === 'USD');
      assert.ok(usd, 'a USD row');
      assert.equal(usd.posted.difference, '0');
      assert.equal(usd.pending.difference, '0');
      assert.ok(BigInt(usd.posted.debits) > 0n);
    });

    it('shows an operator any account statement, including system accounts', async () => {
      const operator = await createOperator(s.baseUrl, s.db);
      const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
      const customer = await http('GET', `/internal/v1/accounts/${aliceWallet}/statement?limit=1`, { token: operator.accessToken });
      assert.equal(customer.status, 200);
      assert.equal(customer.body.account.ownerUserId, alice.user.id);
      assert.equal(customer.body.transactions.data.length, 1);
      const system = await http('GET', `/internal/v1/accounts/${clearing.id}/statement`, { token: operator.accessToken });
      assert.equal(system.status, 200);
      assert.equal(system.body.account.systemRole, 'funding_clearing');
      assert.ok(BigInt(system.body.account.totals.debitsPosted) > 0n);
    });

    it('refuses a customer on operator views', async () => {
      const res = await http('GET', '/internal/v1/ledger/trial-balance', { token: alice.accessToken });
      assert.equal(res.status, 403);
    });

    it('answers 404 for an unknown account statement', async () => {
      const res = await http('GET', `/internal/v1/accounts/${randomUUID()}/statement`, { token: s.config.auth.serviceToken });
      assert.equal(res.status, 404);
    });
  });
});
