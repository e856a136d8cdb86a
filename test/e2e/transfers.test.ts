import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { maskAccount } from '../../src/money/money';
import { dedupeKeys } from '../../src/temporal/names';
import { client } from '../helpers/http';
import { deposit, transfersOf, uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { signUpVerified } from '../helpers/users';

describe('customer transfers (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
  });

  /** A signed-in customer, email and phone verified, and their USD wallet, holding `balanceMinor`. */
  async function customer(balanceMinor = 0n, name = 'Ada Lovelace', channels: Array<'email' | 'phone'> = ['email', 'phone']) {
    const user = await signUpVerified(s.baseUrl, s.db, { phone: uniquePhone(), name }, channels);
    const accounts = await http('GET', '/v1/accounts', { token: user.accessToken });
    const walletId = accounts.body.data[0].id as string;
    if (balanceMinor > 0n) await deposit(s.db, walletId, balanceMinor);
    return { ...user, walletId };
  }

  const send = (token: string, body: object, key: string = randomUUID()) =>
    http('POST', '/v1/transfers', { token, body, headers: { 'idempotency-key': key } });

  const available = async (token: string, accountId: string) => (await http('GET', `/v1/accounts/${accountId}`, { token })).body.balances.available;

  describe('POST /v1/transfers', () => {
    it("moves money to the recipient's wallet, found by email", async () => {
      const [ada, grace] = await Promise.all([customer(10_000n), customer(0n, 'Grace Hopper')]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '2500', currency: 'USD', note: 'Dinner' });
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'succeeded');
      assert.equal(res.headers.get('location'), `/v1/transfers/${res.body.id}`);
      assert.deepEqual(res.body.to, { email: grace.email });
      assert.equal(await available(ada.accessToken, ada.walletId), '7500');
      assert.equal(await available(grace.accessToken, grace.walletId), '2500');
    });

    it('finds the recipient by phone', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer()]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { phone: grace.user.phone }, amount: '1000' });
      assert.equal(res.status, 201);
      assert.equal(await available(grace.accessToken, grace.walletId), '1000');
    });

    it('alerts both holders with their new available balance', async () => {
      const [ada, grace] = await Promise.all([customer(10_000n), customer(0n, 'Grace Hopper')]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '1234' });
      const [debit] = await s.db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(res.body.id, ada.walletId) });
      const [credit] = await s.db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(res.body.id, grace.walletId) });
      assert.equal(debit.recipient, ada.user.phone);
      assert.match(debit.body, new RegExp(`USD 12\\.34 debited from account ${maskAccount(ada.walletId)}, transfer to Grace H\\. Available balance: USD 87\\.66\\.`));
      assert.equal(credit.recipient, grace.user.phone);
      assert.match(credit.body, /USD 12\.34 credited to .*transfer from Ada L\. Available balance: USD 12\.34\./);
    });

    it('answers 422 insufficient_funds naming amount, and moves nothing', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer()]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '1001' });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'insufficient_funds');
      assert.equal(res.body.errors[0].field, 'amount');
      assert.equal((await transfersOf(s.db, ada.walletId)).length, 1, 'only the deposit');
      assert.equal((await transfersOf(s.db, grace.walletId)).length, 0);
    });

    it('answers 422 recipient_not_verified naming the field for an unknown recipient', async () => {
      const ada = await customer(1_000n);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: `${randomUUID()}@example.com` }, amount: '100' });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'recipient_not_verified');
      assert.equal(res.body.errors[0].field, 'to.email');
    });

    it('gives a customer whose email is unverified the same answer as an unknown one, and moves nothing', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer(0n, 'Grace Hopper', ['phone'])]);
      const unknown = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: `${randomUUID()}@example.com` }, amount: '100' });
      const unverified = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '100' });
      assert.equal(unverified.status, 422);
      const shape = (body: { type: string; title: string; detail: string; errors: unknown[] }) => [body.type, body.title, body.detail, body.errors];
      assert.deepEqual(shape(unverified.body), shape(unknown.body));
      assert.equal((await transfersOf(s.db, grace.walletId)).length, 0);
    });

    it('refuses a phone its owner has not verified with 422 recipient_not_verified', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer(0n, 'Grace Hopper', ['email'])]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { phone: grace.user.phone }, amount: '100' });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'recipient_not_verified');
      assert.equal(res.body.errors[0].field, 'to.phone');
    });

    it('names the recipient, masked, in the answer', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer(0n, 'Grace Brewster Hopper')]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { phone: grace.user.phone }, amount: '100' });
      assert.equal(res.status, 201);
      const phone = grace.user.phone;
      assert.deepEqual(res.body.recipient, { name: 'G*** B*** H***', contact: `${phone.slice(0, 2)}${'*'.repeat(phone.length - 6)}${phone.slice(-4)}` });
    });

    it('answers insufficient_funds before looking the recipient up, so an empty wallet cannot probe contacts', async () => {
      const ada = await customer(0n);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: `${randomUUID()}@example.com` }, amount: '100' });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'insufficient_funds');
    });

    it('rejects a transfer to yourself with a 400 naming to', async () => {
      const ada = await customer(1_000n);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: ada.email }, amount: '100' });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors[0].field, 'to');
      assert.equal(res.body.errors[0].code, 'self_transfer');
    });

    it('rejects a recipient named by both email and phone', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer()]);
      const res = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: grace.email, phone: grace.user.phone }, amount: '100' });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors[0].field, 'to');
    });

    it("cannot send from another customer's account: 404 account_not_found", async () => {
      const [ada, grace] = await Promise.all([customer(), customer(5_000n)]);
      const res = await send(ada.accessToken, { fromAccountId: grace.walletId, to: { email: ada.email }, amount: '100' });
      assert.equal(res.status, 404);
      assert.equal(res.body.type, 'account_not_found');
      assert.equal(res.body.errors[0].field, 'fromAccountId');
      assert.equal(await available(grace.accessToken, grace.walletId), '5000');
    });

    it('moves the money once for a repeated Idempotency-Key', async () => {
      const [ada, grace] = await Promise.all([customer(10_000n), customer()]);
      const key = randomUUID();
      const body = { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '700' };
      const first = await send(ada.accessToken, body, key);
      const second = await send(ada.accessToken, body, key);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(second.body.id, first.body.id);
      assert.equal((await transfersOf(s.db, grace.walletId)).length, 1);
      assert.equal(await available(ada.accessToken, ada.walletId), '9300');
    });
    it('answers a repeat after the replay window from the transfer record, not with insufficient_funds', async () => {
      const [ada, grace] = await Promise.all([customer(1_000n), customer()]);
      const key = randomUUID();
      const body = { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '1000' };
      const first = await send(ada.accessToken, body, key);
      await s.db('idempotency_keys').where({ key }).delete();
      const again = await send(ada.accessToken, body, key);
      assert.equal(again.status, 200);
      assert.equal(again.body.id, first.body.id);
      assert.equal((await transfersOf(s.db, grace.walletId)).length, 1);
    });
  });

  describe('GET /v1/transfers/:id', () => {
    it('shows the sender the transfer, and no one else', async () => {
      const [ada, grace, eve] = await Promise.all([customer(1_000n), customer(), customer()]);
      const created = await send(ada.accessToken, { fromAccountId: ada.walletId, to: { email: grace.email }, amount: '100' });
      const mine = await http('GET', `/v1/transfers/${created.body.id}`, { token: ada.accessToken });
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body, created.body);
      for (const other of [grace, eve]) {
        const res = await http('GET', `/v1/transfers/${created.body.id}`, { token: other.accessToken });
        assert.equal(res.status, 404);
      }
    });
  });
});
