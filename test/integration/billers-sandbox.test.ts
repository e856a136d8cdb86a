import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { BillerUnavailableError, type Biller, type BillerPort, type PayBillerRequest } from '../../src/payments/billers/port';
import { getBiller, listBillers } from '../../src/payments/billers/repository';
import { createSandboxBillerPort } from '../../src/payments/billers/sandbox';
import { testDb } from '../helpers/services';

/** The sandbox biller over the real test database, and the seeded catalogue it serves. */
describe('sandbox biller', function () {
  let db: Db;
  let port: BillerPort;
  let power: Biller;
  let airtime: Biller;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
    port = createSandboxBillerPort(db);
    power = (await getBiller(db, 'brightgrid-power'))!;
    airtime = (await getBiller(db, 'talkmore-airtime'))!;
  });

  /** A BrightGrid meter number (10 digits) ending in `script`. */
  const meter = (script: string) => `48201937${script}`;

  function payment(customerRef: string, overrides: Partial<PayBillerRequest> = {}): PayBillerRequest {
    return { biller: power, customerRef, amountMinor: 5_000n, currency: 'USD', paymentId: `payment:${randomUUID()}`, ...overrides };
  }

  const row = (paymentId: string) => db('sandbox_biller_payments').where({ payment_id: paymentId }).first();

  describe('catalogue', () => {
    it('seeds at least six active billers covering all five categories', async () => {
      const billers = await listBillers(db, { limit: 100 });
      assert.ok(billers.length >= 6, `${billers.length} billers`);
      assert.deepEqual([...new Set(billers.map((b) => b.category))].sort(), ['airtime', 'cable', 'electricity', 'internet', 'water']);
    });

    it("seeds examples that match their biller's pattern and script a success", async () => {
      const billers = await listBillers(db, { limit: 100 });
      const results = await Promise.all(billers.map((b) => port.validate(b, b.customerRefExample)));
      assert.deepEqual(
        results.map((r) => r.valid),
        billers.map(() => true),
      );
    });

    it('parses fees and limits to bigint', () => {
      assert.deepEqual([power.feeFixedMinor, power.minAmountMinor, power.maxAmountMinor], [50n, 500n, 500_000n]);
    });
  });

  describe('validate', () => {
    it('names the same customer and amount due for the same reference every time', async () => {
      const [a, b] = [await port.validate(power, meter('55')), await port.validate(power, meter('55'))];
      assert.deepEqual(a, b);
      assert.match(a.valid ? a.customerName : 'invalid', /^[A-Z][a-z]+ [A-Z][a-z]+$/);
    });

    it("keeps the amount due within the biller's limits", async () => {
      const results = await Promise.all(['10', '27', '55', '99'].map((s) => port.validate(power, meter(s))));
      for (const r of results) {
        assert.ok(r.valid && r.amountDueMinor !== null && r.amountDueMinor >= power.minAmountMinor && r.amountDueMinor <= power.maxAmountMinor);
      }
    });

    it('has no amount due for airtime', async () => {
      const result = await port.validate(airtime, '+14155550123');
      assert.deepEqual(result.valid && result.amountDueMinor, null);
    });

    it('does not know a reference ending in 00', async () => {
      assert.deepEqual(await port.validate(power, meter('00')), { valid: false, reason: 'unknown_customer' });
    });

    it("calls a reference that does not match the biller's pattern invalid_format", async () => {
      assert.deepEqual(await port.validate(power, 'SV-20481736'), { valid: false, reason: 'invalid_format' });
    });
  });

  describe('pay', () => {
    it('accepts any other reference', async () => {
      const outcome = await port.pay(payment(meter('55')));
      assert.equal(outcome.status, 'accepted');
    });

    it('pays once per payment id: a repeat answers the same reference and records one payment', async () => {
      const request = payment(meter('56'));
      const [first, second] = [await port.pay(request), await port.pay(request)];
      assert.deepEqual(second, first);
      const rows = await db('sandbox_biller_payments').where({ payment_id: request.paymentId });
      assert.deepEqual(
        rows.map((r) => r.calls),
        [2],
      );
    });

    it('declines a reference ending in 01', async () => {
      assert.deepEqual(await port.pay(payment(meter('01'))), { status: 'declined', reason: 'account_suspended' });
    });

    it('declines an unknown customer (00)', async () => {
      assert.deepEqual(await port.pay(payment(meter('00'))), { status: 'declined', reason: 'unknown_customer' });
    });

    it('times out on the first call for 02 after recording the payment, then answers accepted', async () => {
      const request = payment(meter('02'));
      await assert.rejects(port.pay(request), BillerUnavailableError);
      assert.equal((await row(request.paymentId)).status, 'accepted');
      assert.equal((await port.pay(request)).status, 'accepted');
    });

    it('times out only on the first call per payment id for 02', async () => {
      const [a, b] = [payment(meter('02')), payment(meter('02'))];
      await assert.rejects(port.pay(a), BillerUnavailableError);
      await assert.rejects(port.pay(b), BillerUnavailableError);
    });

    it('answers unknown on the first call for 03, which the status query resolves to accepted', async () => {
      const request = payment(meter('03'));
      assert.deepEqual(await port.pay(request), { status: 'unknown' });
      const status = await port.getPaymentStatus({ biller: power, paymentId: request.paymentId });
      assert.equal(status.status, 'accepted');
    });

    it('is permanently unavailable for 04, paying and querying alike', async () => {
      const request = payment(meter('04'));
      for (let i = 0; i < 3; i++) await assert.rejects(port.pay(request), BillerUnavailableError);
      await assert.rejects(port.getPaymentStatus({ biller: power, paymentId: request.paymentId }), BillerUnavailableError);
    });

    it('declines an amount outside the limits', async () => {
      assert.deepEqual(await port.pay(payment(meter('55'), { amountMinor: 499n })), { status: 'declined', reason: 'amount_out_of_range' });
    });

    it('declines a payment id reused with another amount and keeps the first payment', async () => {
      const request = payment(meter('57'));
      await port.pay(request);
      assert.deepEqual(await port.pay({ ...request, amountMinor: 6_000n }), { status: 'declined', reason: 'payment_id_reused' });
      assert.equal((await row(request.paymentId)).amount_minor, '5000');
    });

    it('survives a new port instance (a worker restart): state lives in PostgreSQL', async () => {
      const request = payment(meter('02'));
      await assert.rejects(port.pay(request), BillerUnavailableError);
      assert.equal((await createSandboxBillerPort(db).pay(request)).status, 'accepted');
    });
  });

  describe('getPaymentStatus', () => {
    it('answers not_found for a payment it never received', async () => {
      assert.deepEqual(await port.getPaymentStatus({ biller: power, paymentId: `payment:${randomUUID()}` }), { status: 'not_found' });
    });

    it('answers the recorded decline', async () => {
      const request = payment(meter('01'));
      await port.pay(request);
      assert.deepEqual(await port.getPaymentStatus({ biller: power, paymentId: request.paymentId }), { status: 'declined', reason: 'account_suspended' });
    });
  });
});
