import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createCashbackActivities } from '../../src/activities/payments/cashback';
import { client } from '../helpers/http';
import { deposit } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin, type SignedIn } from '../helpers/users';

describe('billers, customer validation and quotes (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;
  let alice: SignedIn;
  let bob: SignedIn;

  const walletOf = async (user: SignedIn): Promise<string> => (await http('GET', '/v1/accounts', { token: user.accessToken })).body.data[0].id;
  const quote = (user: SignedIn, body: Record<string, unknown>) => http('POST', '/v1/payments/quote', { token: user.accessToken, body });
  const validate = (billerId: string, customerRef: unknown) =>
    http('POST', `/v1/billers/${billerId}/validate`, { token: alice.accessToken, body: { customerRef } });

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
    [alice, bob] = await Promise.all([signUpAndLogin(s.baseUrl), signUpAndLogin(s.baseUrl)]);
  });

  describe('GET /v1/billers', () => {
    it('lists the seeded billers with fee, limits, reference example and cashback rate', async () => {
      const res = await http('GET', '/v1/billers', { token: alice.accessToken });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.data.find((b: { id: string }) => b.id === 'brightgrid-power'),
        {
          id: 'brightgrid-power',
          name: 'BrightGrid Power',
          category: 'electricity',
          currency: 'USD',
          fee: { fixed: '50', rateBps: 0 },
          limits: { min: '500', max: '500000' },
          customerRefPattern: '^[0-9]{10}$',
          customerRefExample: '4820193755',
          cashbackRateBps: 150,
        },
      );
    });

    it('shows the base rate for a biller without a rate of its own', async () => {
      const res = await http('GET', '/v1/billers/sunvolt-energy', { token: alice.accessToken });
      assert.equal(res.body.cashbackRateBps, 100);
    });

    it('filters by category', async () => {
      const res = await http('GET', '/v1/billers?category=electricity', { token: alice.accessToken });
      assert.deepEqual(
        res.body.data.map((b: { id: string }) => b.id),
        ['brightgrid-power', 'sunvolt-energy'],
      );
    });

    it('rejects an unknown category with 400 naming it', async () => {
      const res = await http('GET', '/v1/billers?category=gas', { token: alice.accessToken });
      assert.deepEqual([res.status, res.body.errors[0].field, res.body.errors[0].in], [400, 'category', 'query']);
    });

    it('pages through every biller once, in id order', async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=4&cursor=${encodeURIComponent(cursor)}` : '?limit=4';
        const page = await http('GET', `/v1/billers${query}`, { token: alice.accessToken });
        ids.push(...page.body.data.map((b: { id: string }) => b.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      const all = await http('GET', '/v1/billers?limit=100', { token: alice.accessToken });
      assert.deepEqual(ids, all.body.data.map((b: { id: string }) => b.id).sort());
    });

    it('rejects a cursor it did not issue with 400 naming cursor', async () => {
      const res = await http('GET', '/v1/billers?cursor=bm9wZQ', { token: alice.accessToken });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'cursor']);
    });
  });

  describe('GET /v1/billers/:id', () => {
    it('answers one biller', async () => {
      const res = await http('GET', '/v1/billers/talkmore-airtime', { token: alice.accessToken });
      assert.deepEqual([res.status, res.body.category, res.body.customerRefExample], [200, 'airtime', '+14155550123']);
    });

    it('answers 404 biller_not_found for an unknown biller', async () => {
      const res = await http('GET', '/v1/billers/no-such-biller', { token: alice.accessToken });
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [404, 'biller_not_found', 'id']);
    });
  });

  describe('POST /v1/billers/:id/validate', () => {
    it("answers the customer's name and amount due", async () => {
      const res = await validate('brightgrid-power', '4820193755');
      assert.equal(res.status, 200);
      assert.deepEqual(
        { ...res.body, customerName: typeof res.body.customerName, amountDue: /^[0-9]+$/.test(res.body.amountDue) },
        { billerId: 'brightgrid-power', customerRef: '4820193755', customerName: 'string', amountDue: true, currency: 'USD' },
      );
    });

    it('answers the same customer every time', async () => {
      const [a, b] = [await validate('brightgrid-power', '4820193766'), await validate('brightgrid-power', '4820193766')];
      assert.deepEqual(a.body, b.body);
    });

    it('answers no amount due for airtime', async () => {
      const res = await validate('talkmore-airtime', '+14155550123');
      assert.deepEqual([res.status, res.body.amountDue], [200, null]);
    });

    it('answers 422 invalid_customer_reference naming customerRef for an unknown customer', async () => {
      const res = await validate('brightgrid-power', '4820193700');
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [422, 'invalid_customer_reference', 'customerRef']);
    });

    it("answers 400 naming customerRef for a reference not in the biller's format", async () => {
      const res = await validate('brightgrid-power', 'ABC');
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [400, 'validation_error', 'customerRef']);
    });

    it('answers 400 naming customerRef when it is missing', async () => {
      const res = await http('POST', '/v1/billers/brightgrid-power/validate', { token: alice.accessToken, body: {} });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'customerRef']);
    });

    it('answers 404 biller_not_found for an unknown biller', async () => {
      const res = await validate('no-such-biller', '4820193755');
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [404, 'biller_not_found', 'id']);
    });
  });

  describe('POST /v1/payments/quote', () => {
    it('quotes amount, fee, total and cashback with the rules that applied', async () => {
      const signed = await signUpAndLogin(s.baseUrl);
      const res = await quote(signed, { billerId: 'fibernet-broadband', customerRef: 'FN100234567', amount: '20000' });
      assert.equal(res.status, 200);
      // FiberNet: 0.25 + 0.50% of 200.00; cashback 2.00% + 1.00% tier.
      assert.deepEqual(
        [res.body.amount, res.body.fee, res.body.total, res.body.cashback, res.body.currency, res.body.cashbackRateBps],
        ['20000', '125', '20125', '600', 'USD', 300],
      );
      assert.deepEqual(
        res.body.rules.map((r: { rule: string }) => r.rule),
        ['fee_fixed', 'fee_percentage', 'cashback_rate', 'cashback_tier', 'cashback_amount', 'cashback_monthly_cap'],
      );
    });

    it('names the customer it quotes for', async () => {
      const [validated, quoted] = [
        await validate('fibernet-broadband', 'FN100234567'),
        await quote(alice, { billerId: 'fibernet-broadband', customerRef: 'FN100234567', amount: '5000' }),
      ];
      assert.equal(quoted.body.customerName, validated.body.customerName);
    });

    it('shows the cap remaining after cashback earlier this month', async () => {
      const signed = await signUpAndLogin(s.baseUrl);
      const paymentId = randomUUID();
      await createCashbackActivities({ db: s.db, now: () => new Date() }).creditCashback({
        paymentId,
        userId: signed.user.id,
        amountMinor: '20000',
        currency: 'USD',
        billerId: 'fibernet-broadband',
        transferKey: `test:${paymentId}:cashback`,
      });
      const res = await quote(signed, { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '1000' });
      assert.deepEqual(res.body.monthlyCashbackCap, { limit: '2000', used: '600', remaining: '1400' });
    });

    it('answers 422 amount_out_of_range naming amount below the minimum and above the maximum', async () => {
      const responses = await Promise.all(
        ['499', '500001'].map((amount) => quote(alice, { billerId: 'brightgrid-power', customerRef: '4820193755', amount })),
      );
      assert.deepEqual(
        responses.map((r) => [r.status, r.body.type, r.body.errors[0].field]),
        [
          [422, 'amount_out_of_range', 'amount'],
          [422, 'amount_out_of_range', 'amount'],
        ],
      );
    });

    it('accepts the limits themselves', async () => {
      const responses = await Promise.all(['500', '500000'].map((amount) => quote(alice, { billerId: 'brightgrid-power', customerRef: '4820193755', amount })));
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200],
      );
    });

    it('answers 404 biller_not_found naming billerId', async () => {
      const res = await quote(alice, { billerId: 'no-such-biller', customerRef: '4820193755', amount: '1000' });
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field, res.body.errors[0].in], [404, 'biller_not_found', 'billerId', 'body']);
    });

    it('answers 422 invalid_customer_reference for an unknown customer', async () => {
      const res = await quote(alice, { billerId: 'brightgrid-power', customerRef: '4820193700', amount: '1000' });
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [422, 'invalid_customer_reference', 'customerRef']);
    });

    it("answers 400 naming customerRef for a reference not in the biller's format", async () => {
      const res = await quote(alice, { billerId: 'brightgrid-power', customerRef: 'FN100234567', amount: '1000' });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'customerRef']);
    });

    it('answers 400 naming amount when it is not a string of minor units', async () => {
      const res = await quote(alice, { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '10.50' });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'amount']);
    });

    it('says whether the account covers the total', async () => {
      const signed = await signUpAndLogin(s.baseUrl);
      const wallet = await walletOf(signed);
      const body = { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '1000', fromAccountId: wallet };
      const before = await quote(signed, body);
      await deposit(s.db, wallet, 1_050n);
      const after = await quote(signed, body);
      assert.deepEqual([before.body.sufficientFunds, after.body.sufficientFunds], [false, true]);
    });

    it("answers 404 account_not_found naming fromAccountId for another customer's account", async () => {
      const res = await quote(alice, { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '1000', fromAccountId: await walletOf(bob) });
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [404, 'account_not_found', 'fromAccountId']);
    });
  });

  describe('access', () => {
    const routes = [
      ['GET', '/v1/billers', undefined],
      ['GET', '/v1/billers/brightgrid-power', undefined],
      ['POST', '/v1/billers/brightgrid-power/validate', { customerRef: '4820193755' }],
      ['POST', '/v1/payments/quote', { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '1000' }],
    ] as const;

    it('answers 401 without a token on every route', async () => {
      const statuses = await Promise.all(routes.map(([method, path, body]) => http(method, path, body ? { body } : {})));
      assert.deepEqual(
        statuses.map((r) => r.status),
        routes.map(() => 401),
      );
    });

    it("answers 403 to an operator's token on every route", async () => {
      const operator = await createOperator(s.baseUrl, s.db);
      const statuses = await Promise.all(routes.map(([method, path, body]) => http(method, path, { token: operator.accessToken, ...(body ? { body } : {}) })));
      assert.deepEqual(
        statuses.map((r) => r.status),
        routes.map(() => 403),
      );
    });
  });
});
