import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { transferIdFrom } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/service';
import { maskAccount } from '../../src/money/money';
import { dedupeKeys, workflowIds } from '../../src/temporal/names';
import { client } from '../helpers/http';
import { transfersOf, uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { signUpAndLogin, type SignedIn } from '../helpers/users';

describe('bank side /internal/v1 (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;
  let service: string;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
    service = s.config.auth.serviceToken;
  });

  const customer = () => signUpAndLogin(s.baseUrl, { phone: uniquePhone() });

  const openAccount = (userId: string, body: object, headers: Record<string, string> = {}) =>
    http('POST', `/internal/v1/users/${userId}/accounts`, { token: service, body, headers });

  const post = (accountId: string, body: object, key: string = randomUUID()) =>
    http('POST', `/internal/v1/accounts/${accountId}/postings`, { token: service, body, headers: { 'idempotency-key': key } });

  async function card(user: SignedIn, creditLimit: string): Promise<string> {
    return (await openAccount(user.user.id, { type: 'credit_card', currency: 'USD', creditLimit })).body.id;
  }

  describe('authentication', () => {
    it('refuses a customer access token on every bank-side route', async () => {
      const ada = await customer();
      const accountId = randomUUID();
      const attempts = [
        http('POST', `/internal/v1/users/${ada.user.id}/accounts`, { token: ada.accessToken, body: { type: 'savings', currency: 'USD' } }),
        http('POST', `/internal/v1/accounts/${accountId}/postings`, {
          token: ada.accessToken,
          body: { direction: 'credit', amount: '100', currency: 'USD', code: 'deposit', description: 'x' },
          headers: { 'idempotency-key': randomUUID() },
        }),
        http('GET', `/internal/v1/postings/${randomUUID()}`, { token: ada.accessToken }),
      ];
      for (const res of await Promise.all(attempts)) {
        assert.equal(res.status, 401);
        assert.equal(res.body.type, 'unauthenticated');
      }
    });
  });

  describe('POST /internal/v1/users/:userId/accounts', () => {
    it('opens a savings account the customer then sees', async () => {
      const ada = await customer();
      const res = await openAccount(ada.user.id, { type: 'savings', currency: 'USD' });
      assert.equal(res.status, 201);
      assert.equal(res.body.type, 'savings');
      assert.equal(res.body.creditLimit, null);
      const mine = await http('GET', `/v1/accounts/${res.body.id}`, { token: ada.accessToken });
      assert.equal(mine.status, 200);
    });

    it('opens a credit card with its limit available', async () => {
      const ada = await customer();
      const res = await openAccount(ada.user.id, { type: 'credit_card', currency: 'USD', creditLimit: '100000' });
      assert.equal(res.status, 201);
      assert.equal(res.body.creditLimit, '100000');
      assert.equal(res.body.balances.available, '100000');
    });

    it('stores the statement day a credit card is opened with, which its statement cycles follow', async () => {
      const ada = await customer();
      const res = await openAccount(ada.user.id, { type: 'credit_card', currency: 'USD', creditLimit: '100000', statementDay: 31 });
      assert.equal(res.status, 201);
      assert.equal((await s.db('card_terms').where({ account_id: res.body.id }).first())?.statement_day, 31);
    });

    it('refuses a statementDay for a savings account with 400 naming statementDay', async () => {
      const ada = await customer();
      const res = await openAccount(ada.user.id, { type: 'savings', currency: 'USD', statementDay: 15 });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['statementDay']);
    });

    it('refuses a repeated Idempotency-Key with another statement day as a reused key', async () => {
      const ada = await customer();
      const key = randomUUID();
      const body = { type: 'credit_card', currency: 'USD', creditLimit: '100000', statementDay: 15 };
      await openAccount(ada.user.id, body, { 'idempotency-key': key });
      await s.db('idempotency_keys').where({ key }).delete();
      const again = await openAccount(ada.user.id, { ...body, statementDay: 16 }, { 'idempotency-key': key });
      assert.deepEqual([again.status, again.body.type], [422, 'idempotency_key_reused']);
    });

    it('requires creditLimit for a credit card', async () => {
      const ada = await customer();
      const res = await openAccount(ada.user.id, { type: 'credit_card', currency: 'USD' });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['creditLimit']);
    });

    it('answers 404 user_not_found for an unknown user', async () => {
      const res = await openAccount(randomUUID(), { type: 'savings', currency: 'USD' });
      assert.equal(res.status, 404);
      assert.equal(res.body.type, 'user_not_found');
    });

    it('opens one account for a repeated Idempotency-Key, even after the replay window', async () => {
      const ada = await customer();
      const key = randomUUID();
      const first = await openAccount(ada.user.id, { type: 'savings', currency: 'EUR' }, { 'idempotency-key': key });
      await s.db('idempotency_keys').where({ key }).delete();
      const second = await openAccount(ada.user.id, { type: 'savings', currency: 'EUR' }, { 'idempotency-key': key });
      assert.equal(second.status, 201);
      assert.equal(second.body.id, first.body.id);
      assert.equal((await createLedger(s.db).listAccounts(ada.user.id)).length, 2, 'the wallet and one savings account');
    });
  });

  describe('POST /internal/v1/accounts/:accountId/postings', () => {
    it('posts a deposit and alerts the holder with the new available balance', async () => {
      const ada = await customer();
      const savings = (await openAccount(ada.user.id, { type: 'savings', currency: 'USD' })).body.id;
      const res = await post(savings, { direction: 'credit', amount: '150000', currency: 'USD', code: 'deposit', description: 'Cash at branch' });
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'succeeded');
      assert.equal(res.headers.get('location'), `/internal/v1/postings/${res.body.id}`);
      const [alert] = await s.db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(res.body.id, savings) });
      assert.equal(
        alert.body,
        `finflow: USD 1,500.00 credited to account ${maskAccount(savings)}, deposit: Cash at branch. Available balance: USD 1,500.00.`,
      );
      const shown = await http('GET', `/internal/v1/postings/${res.body.id}`, { token: service });
      assert.deepEqual(shown.body, res.body);
    });

    it('posts a card purchase within the limit', async () => {
      const ada = await customer();
      const cardId = await card(ada, '50000');
      const res = await post(cardId, { direction: 'debit', amount: '12000', currency: 'USD', code: 'card_purchase', description: 'Grocer' });
      assert.equal(res.status, 201);
      const shown = await http('GET', `/v1/accounts/${cardId}`, { token: ada.accessToken });
      assert.deepEqual(shown.body.balances, { posted: '-12000', pending: '0', available: '38000' });
    });

    it('refuses a card purchase over the limit: 422 exceeds_credit_limit, the posting shows failed', async () => {
      const ada = await customer();
      const cardId = await card(ada, '50000');
      const key = randomUUID();
      const res = await post(cardId, { direction: 'debit', amount: '50001', currency: 'USD', code: 'card_purchase', description: 'Yacht' }, key);
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'exceeds_credit_limit');
      assert.equal(res.body.errors[0].field, 'amount');
      const posting = await http('GET', `/internal/v1/postings/${transferIdFrom(workflowIds.bankPosting(key))}`, { token: service });
      assert.equal(posting.body.status, 'failed');
      assert.equal(posting.body.failureReason, 'exceeds_credit_limit');
      assert.deepEqual(await transfersOf(s.db, cardId), []);
    });

    it('refuses a debit beyond a savings balance: 422 insufficient_funds', async () => {
      const ada = await customer();
      const savings = (await openAccount(ada.user.id, { type: 'savings', currency: 'USD' })).body.id;
      const res = await post(savings, { direction: 'debit', amount: '1', currency: 'USD', code: 'adjustment', description: 'Correction' });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'insufficient_funds');
    });

    it('credits a fee to fee revenue', async () => {
      const ada = await customer();
      const savings = (await openAccount(ada.user.id, { type: 'savings', currency: 'USD' })).body.id;
      await post(savings, { direction: 'credit', amount: '1000', currency: 'USD', code: 'salary', description: 'Payroll' });
      const res = await post(savings, { direction: 'debit', amount: '250', currency: 'USD', code: 'fee', description: 'Card fee' });
      assert.equal(res.status, 201);
      const feeRevenue = await createLedger(s.db).ensureSystemAccount('fee_revenue', 'USD');
      const fee = await createLedger(s.db).getTransfer(res.body.id);
      assert.equal(fee?.creditAccountId, feeRevenue.id);
    });

    it('rejects a deposit posted as a debit, naming direction', async () => {
      const ada = await customer();
      const savings = (await openAccount(ada.user.id, { type: 'savings', currency: 'USD' })).body.id;
      const res = await post(savings, { direction: 'debit', amount: '100', currency: 'USD', code: 'deposit', description: 'Cash' });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors[0].field, 'direction');
    });

    it('answers 422 currency_mismatch for a posting in another currency', async () => {
      const ada = await customer();
      const savings = (await openAccount(ada.user.id, { type: 'savings', currency: 'USD' })).body.id;
      const res = await post(savings, { direction: 'credit', amount: '100', currency: 'EUR', code: 'deposit', description: 'Cash' });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'currency_mismatch');
    });

    it('answers 404 account_not_found for a system account or an unknown id', async () => {
      const clearing = await createLedger(s.db).ensureSystemAccount('funding_clearing', 'USD');
      for (const accountId of [clearing.id, randomUUID()]) {
        const res = await post(accountId, { direction: 'credit', amount: '100', currency: 'USD', code: 'deposit', description: 'Cash' });
        assert.equal(res.status, 404);
        assert.equal(res.body.type, 'account_not_found');
      }
    });

    it('posts once for a repeated Idempotency-Key', async () => {
      const ada = await customer();
      const savings = (await openAccount(ada.user.id, { type: 'savings', currency: 'USD' })).body.id;
      const key = randomUUID();
      const body = { direction: 'credit', amount: '100', currency: 'USD', code: 'deposit', description: 'Cash' };
      await post(savings, body, key);
      const again = await post(savings, body, key);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal((await transfersOf(s.db, savings)).length, 1);
    });
  });
});
