import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { maskAccount } from '../../src/money/money';
import { workflowIds } from '../../src/temporal/names';
import { client, type HttpResponse } from '../helpers/http';
import { transfersOf, uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin, type SignedIn } from '../helpers/users';
import { eventually } from '../helpers/wait';

describe('wallet funding (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;
  let operator: SignedIn;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
    operator = await createOperator(s.baseUrl, s.db);
  });

  /** A signed-in customer and the USD wallet signup opened. */
  async function customer() {
    const user = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const accounts = await http('GET', '/v1/accounts', { token: user.accessToken });
    return { ...user, walletId: accounts.body.data[0].id as string };
  }

  const fund = (token: string, body: object, key: string = randomUUID()) =>
    http('POST', '/v1/wallet/fund', { token, body, headers: { 'idempotency-key': key } });

  const fundBody = (accountId: string, overrides: object = {}) => ({
    accountId,
    amount: '5000',
    currency: 'USD',
    source: { type: 'card', token: 'tok_success' },
    ...overrides,
  });

  async function available(token: string, accountId: string): Promise<string> {
    const res = await http('GET', `/v1/accounts/${accountId}`, { token });
    return res.body.balances.available;
  }

  /** Polls a funding's Location until it leaves `processing`. */
  function settled(token: string, location: string): Promise<HttpResponse> {
    return eventually(`${location} to leave processing`, async () => {
      const res = await http('GET', location, { token });
      return res.body.status !== 'processing' ? res : undefined;
    }, 30_000, 250);
  }

  describe('POST /v1/wallet/fund', () => {
    it('answers 201 with the succeeded funding and raises the wallet balance', async () => {
      const ada = await customer();
      const res = await fund(ada.accessToken, fundBody(ada.walletId));
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'succeeded');
      assert.equal(res.headers.get('location'), `/v1/wallet/fundings/${res.body.id}`);
      assert.deepEqual(Object.keys(res.body).sort(), ['accountId', 'amount', 'createdAt', 'currency', 'failureReason', 'id', 'source', 'status', 'updatedAt']);
      assert.equal(await available(ada.accessToken, ada.walletId), '5000');
    });

    it('puts an alert with the masked account and the new available balance in the outbox', async () => {
      const ada = await customer();
      await fund(ada.accessToken, fundBody(ada.walletId, { amount: '2550' }));
      const outbox = await http('GET', `/v1/operator/notifications?userId=${ada.user.id}`, { token: operator.accessToken });
      const alert = outbox.body.data.find((n: { template: string }) => n.template === 'transaction_alert');
      assert.equal(alert.recipient, ada.user.phone);
      assert.match(alert.body, new RegExp(`USD 25\\.50 credited to account ${maskAccount(ada.walletId)}`));
      assert.match(alert.body, /Available balance: USD 25\.50\.$/);
    });

    it('answers a declined charge with the failed funding and its reason, crediting nothing', async () => {
      const ada = await customer();
      const res = await fund(ada.accessToken, fundBody(ada.walletId, { source: { type: 'card', token: 'tok_decline' } }));
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'failed');
      assert.equal(res.body.failureReason, 'card_declined');
      assert.equal(await available(ada.accessToken, ada.walletId), '0');
      assert.deepEqual(await transfersOf(s.db, ada.walletId), []);
    });

    it('answers 202 with Location while an unknown outcome is resolved, then succeeds', async () => {
      const ada = await customer();
      const res = await fund(ada.accessToken, fundBody(ada.walletId, { source: { type: 'bank_account', token: 'tok_unknown_outcome' } }));
      assert.equal(res.status, 202);
      assert.equal(res.body.status, 'processing');
      const final = await settled(ada.accessToken, res.headers.get('location')!);
      assert.equal(final.body.status, 'succeeded');
      assert.equal(await available(ada.accessToken, ada.walletId), '5000');
    });

    it('retries a timed-out charge and credits the wallet once', async () => {
      const ada = await customer();
      const res = await fund(ada.accessToken, fundBody(ada.walletId, { source: { type: 'card', token: 'tok_timeout_then_success' } }));
      const final = res.status === 202 ? await settled(ada.accessToken, res.headers.get('location')!) : res;
      assert.equal(final.body.status, 'succeeded');
      assert.equal((await transfersOf(s.db, ada.walletId)).length, 1);
    });

    it('replays the first answer for a repeated Idempotency-Key: one ledger transfer', async () => {
      const ada = await customer();
      const key = randomUUID();
      const first = await fund(ada.accessToken, fundBody(ada.walletId), key);
      const second = await fund(ada.accessToken, fundBody(ada.walletId), key);
      assert.equal(second.status, first.status);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(second.body, first.body);
      assert.equal((await transfersOf(s.db, ada.walletId)).length, 1);
    });

    it('answers a repeat after the replay window from the funding record, still one transfer', async () => {
      const ada = await customer();
      const key = randomUUID();
      const first = await fund(ada.accessToken, fundBody(ada.walletId), key);
      await s.db('idempotency_keys').where({ key }).delete();
      const again = await fund(ada.accessToken, fundBody(ada.walletId), key);
      assert.equal(again.status, 200);
      assert.equal(again.body.id, first.body.id);
      assert.equal((await transfersOf(s.db, ada.walletId)).length, 1);
    });

    it('rejects the same Idempotency-Key with a different body (422 idempotency_key_reused)', async () => {
      const ada = await customer();
      const key = randomUUID();
      await fund(ada.accessToken, fundBody(ada.walletId), key);
      const res = await fund(ada.accessToken, fundBody(ada.walletId, { amount: '5001' }), key);
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'idempotency_key_reused');
    });

    it("cannot fund another customer's wallet: 404 account_not_found naming accountId", async () => {
      const [ada, bob] = await Promise.all([customer(), customer()]);
      const res = await fund(ada.accessToken, fundBody(bob.walletId));
      assert.equal(res.status, 404);
      assert.equal(res.body.type, 'account_not_found');
      assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['accountId']);
      assert.equal(await s.db('wallet_fundings').where({ account_id: bob.walletId }).first(), undefined);
    });

    it('rejects a currency other than the wallet’s (422 currency_mismatch)', async () => {
      const ada = await customer();
      const res = await fund(ada.accessToken, fundBody(ada.walletId, { currency: 'EUR' }));
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'currency_mismatch');
      assert.equal(res.body.errors[0].field, 'currency');
    });

    for (const amount of ['10.50', '0', '-5', 1050]) {
      it(`rejects amount ${JSON.stringify(amount)} with a 400 naming amount`, async () => {
        const ada = await customer();
        const res = await fund(ada.accessToken, fundBody(ada.walletId, { amount }));
        assert.equal(res.status, 400);
        assert.equal(res.body.type, 'validation_error');
        assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['amount']);
      });
    }

    it('requires an Idempotency-Key', async () => {
      const ada = await customer();
      const res = await http('POST', '/v1/wallet/fund', { token: ada.accessToken, body: fundBody(ada.walletId) });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors[0].field, 'Idempotency-Key');
    });

    it('runs a walletFunding workflow an operator can find by CustomerId and AccountId', async () => {
      const ada = await customer();
      const key = randomUUID();
      await fund(ada.accessToken, fundBody(ada.walletId), key);
      const query = `CustomerId="${ada.user.id}" AND AccountId="${ada.walletId}" AND WorkflowType="walletFunding"`;
      const found = await eventually('the funding in the visibility store', async () => {
        const ids: string[] = [];
        for await (const execution of s.temporal.client.workflow.list({ query })) ids.push(execution.workflowId);
        return ids.length > 0 ? ids : undefined;
      }, 15_000, 250);
      assert.deepEqual(found, [workflowIds.walletFunding(ada.user.id, key)]);
    });

    it('sends no alert to a customer who opted out', async () => {
      const ada = await customer();
      await s.db('users').where({ id: ada.user.id }).update({ sms_alerts_enabled: false });
      const res = await fund(ada.accessToken, fundBody(ada.walletId));
      assert.equal(res.body.status, 'succeeded');
      assert.equal((await s.db('notifications').where({ user_id: ada.user.id, template: 'transaction_alert' })).length, 0);
    });
  });

  describe('GET /v1/wallet/fundings/:id', () => {
    it('shows the caller their funding', async () => {
      const ada = await customer();
      const created = await fund(ada.accessToken, fundBody(ada.walletId));
      const res = await http('GET', `/v1/wallet/fundings/${created.body.id}`, { token: ada.accessToken });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, created.body);
    });

    it("answers 404 for another customer's funding", async () => {
      const [ada, bob] = await Promise.all([customer(), customer()]);
      const created = await fund(ada.accessToken, fundBody(ada.walletId));
      const res = await http('GET', `/v1/wallet/fundings/${created.body.id}`, { token: bob.accessToken });
      assert.equal(res.status, 404);
    });
  });
});
