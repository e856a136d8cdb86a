import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpBillerPort } from '../../src/payments/billers/http';
import { BillerUnavailableError, type Biller, type BillerPort, type PayBillerRequest } from '../../src/payments/billers/port';

/**
 * The JSON-over-HTTP biller adapter against a biller aggregator started here: a real
 * HTTP server that keeps payments by idempotency key, checks the bearer key, and is
 * scripted by the customer reference's suffix (`-503`: outage, `-hang`: never answers,
 * `-pending`: taken but undecided, `-declined`: declined).
 */

const API_KEY = 'biller-test-key';

interface StoredPayment {
  body: Record<string, string>;
  answer: { status: 'accepted'; reference: string } | { status: 'declined'; reason: string } | { status: 'pending' };
}

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

function startAggregator() {
  const payments = new Map<string, StoredPayment>();
  const seen: Seen[] = [];
  const reply = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, string>) : {};
      const url = new URL(req.url ?? '/', 'http://local');
      seen.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, headers: req.headers, body });
      if (req.headers.authorization !== `Bearer ${API_KEY}`) return reply(res, 401, { error: 'unauthorized' });
      const ref = body.customerRef ?? '';
      if (ref.endsWith('-hang')) return; // never answers
      if (ref.endsWith('-503')) return reply(res, 503, { error: 'maintenance' });
      if (req.method === 'POST' && url.pathname === '/v1/customers/validate') {
        if (ref.endsWith('-00')) return reply(res, 200, { valid: false, reason: 'unknown_customer' });
        return reply(res, 200, { valid: true, customerName: 'Grace Moreau', amountDue: '4250' });
      }
      if (req.method === 'POST' && url.pathname === '/v1/payments') {
        const key = req.headers['idempotency-key'] as string;
        const stored = payments.get(key);
        if (stored) return JSON.stringify(stored.body) === JSON.stringify(body) ? reply(res, 200, stored.answer) : reply(res, 409, { error: 'idempotency_key_reused' });
        const answer: StoredPayment['answer'] = ref.endsWith('-declined')
          ? { status: 'declined', reason: 'account_closed' }
          : ref.endsWith('-pending')
            ? { status: 'pending' }
            : { status: 'accepted', reference: `AGG-${payments.size + 1}` };
        payments.set(key, { body, answer });
        return reply(res, answer.status === 'pending' ? 202 : 201, answer);
      }
      const match = /^\/v1\/payments\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && match) {
        const stored = payments.get(decodeURIComponent(match[1]!));
        return stored ? reply(res, 200, stored.answer) : reply(res, 404, { error: 'not_found' });
      }
      return reply(res, 404, { error: 'no_route' });
    });
  });
  return { server, payments, seen };
}

const biller: Biller = {
  id: 'brightgrid-power',
  name: 'BrightGrid Power',
  category: 'electricity',
  currency: 'USD',
  feeFixedMinor: 0n,
  feeRateBps: 0,
  minAmountMinor: 100n,
  maxAmountMinor: 100_000n,
  customerRefPattern: '.+',
  customerRefExample: 'ACC-1',
  cashbackRateBps: null,
  active: true,
};

describe('HTTP biller adapter', () => {
  let aggregator: ReturnType<typeof startAggregator>;
  let baseUrl: string;
  let port: BillerPort;

  before(async () => {
    aggregator = startAggregator();
    aggregator.server.listen(0, '127.0.0.1');
    await once(aggregator.server, 'listening');
    baseUrl = `http://127.0.0.1:${(aggregator.server.address() as AddressInfo).port}`;
    port = createHttpBillerPort({ baseUrl, apiKey: API_KEY, timeoutMs: 300 });
  });

  after(async () => {
    aggregator.server.closeAllConnections();
    aggregator.server.close();
    await once(aggregator.server, 'close');
  });

  const payment = (customerRef: string, overrides: Partial<PayBillerRequest> = {}): PayBillerRequest => ({
    biller,
    customerRef,
    amountMinor: 4_250n,
    currency: 'USD',
    paymentId: `payment:${randomUUID()}`,
    ...overrides,
  });
  const lastSeen = () => aggregator.seen[aggregator.seen.length - 1]!;

  it('returns the customer name and the amount due as bigint minor units', async () => {
    assert.deepEqual(await port.validate(biller, 'ACC-1'), { valid: true, customerName: 'Grace Moreau', amountDueMinor: 4_250n });
  });

  it('reports an unknown customer as invalid', async () => {
    assert.deepEqual(await port.validate(biller, 'ACC-00'), { valid: false, reason: 'unknown_customer' });
  });

  it('sends the API key as a bearer token', async () => {
    await port.validate(biller, 'ACC-2');
    assert.equal(lastSeen().headers.authorization, `Bearer ${API_KEY}`);
  });

  it('sends the payment id as the Idempotency-Key with the amount as a decimal string', async () => {
    const request = payment('ACC-3');
    await port.pay(request);
    assert.equal(lastSeen().headers['idempotency-key'], request.paymentId);
    assert.deepEqual(lastSeen().body, { paymentId: request.paymentId, billerId: biller.id, customerRef: 'ACC-3', amount: '4250', currency: 'USD' });
  });

  it('maps an accepted payment to its biller reference', async () => {
    const outcome = await port.pay(payment('ACC-4'));
    assert.equal(outcome.status, 'accepted');
    assert.match((outcome as { billerReference: string }).billerReference, /^AGG-\d+$/);
  });

  it('pays once when the same payment id is sent twice', async () => {
    const request = payment('ACC-5');
    const first = await port.pay(request);
    assert.deepEqual(await port.pay(request), first);
    assert.equal([...aggregator.payments.keys()].filter((key) => key === request.paymentId).length, 1);
  });

  it('maps a reused payment id with other details (409) to a payment_id_reused decline', async () => {
    const request = payment('ACC-6');
    await port.pay(request);
    assert.deepEqual(await port.pay({ ...request, amountMinor: 9_999n }), { status: 'declined', reason: 'payment_id_reused' });
  });

  it("maps a declined payment to the biller's reason", async () => {
    assert.deepEqual(await port.pay(payment('ACC-declined')), { status: 'declined', reason: 'account_closed' });
  });

  it('maps a payment taken but not decided (202 pending) to unknown', async () => {
    assert.deepEqual(await port.pay(payment('ACC-pending')), { status: 'unknown' });
  });

  it('reads back the status of a payment it made', async () => {
    const request = payment('ACC-7');
    const outcome = await port.pay(request);
    assert.deepEqual(await port.getPaymentStatus({ biller, paymentId: request.paymentId }), outcome);
  });

  it('reads back a pending payment as pending', async () => {
    const request = payment('ACC-pending');
    await port.pay(request);
    assert.deepEqual(await port.getPaymentStatus({ biller, paymentId: request.paymentId }), { status: 'pending' });
  });

  it('reports a payment the biller never saw (404) as not_found', async () => {
    assert.deepEqual(await port.getPaymentStatus({ biller, paymentId: `payment:${randomUUID()}` }), { status: 'not_found' });
  });

  it('throws BillerUnavailableError on a 5xx', async () => {
    await assert.rejects(port.pay(payment('ACC-503')), BillerUnavailableError);
  });

  it('throws BillerUnavailableError when the biller does not answer in time', async () => {
    await assert.rejects(port.pay(payment('ACC-hang')), (err: unknown) => err instanceof BillerUnavailableError && /timed out/.test(err.message));
  });

  it('throws BillerUnavailableError when nothing listens', async () => {
    const closed = createHttpBillerPort({ baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY, timeoutMs: 300 });
    await assert.rejects(closed.validate(biller, 'ACC-8'), BillerUnavailableError);
  });

  it('refuses to treat a rejected API key as a decline', async () => {
    const wrongKey = createHttpBillerPort({ baseUrl, apiKey: 'wrong', timeoutMs: 300 });
    await assert.rejects(wrongKey.pay(payment('ACC-9')), (err: unknown) => !(err instanceof BillerUnavailableError) && /HTTP 401/.test((err as Error).message));
  });
});
