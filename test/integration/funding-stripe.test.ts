import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Stripe from 'stripe';
import type { ChargeRequest, FundingProcessor } from '../../src/providers/funding/port';
import { createStripeFundingProcessor, STRIPE_CHARGE_ID_METADATA } from '../../src/providers/funding/stripe';
import { stripeMock } from '../helpers/services';

/**
 * The Stripe funding adapter on the official SDK. Against stripe-mock the SDK path runs
 * end to end (stripe-mock validates every request against Stripe's API, but answers
 * fixtures). Outcomes stripe-mock cannot produce — success, a card decline, a
 * processing intent, a timeout, a 5xx — are tested at the adapter's edge: the same SDK
 * against a local server answering with recorded Stripe bodies (test/fixtures/stripe).
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'stripe');
const recorded = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));

const chargeRequest = (token: string): ChargeRequest => ({
  chargeId: `funding:${randomUUID()}:charge`,
  amountMinor: 5_000n,
  currency: 'USD',
  source: { type: 'card', token },
});

describe('Stripe funding adapter against stripe-mock', function () {
  this.timeout(120_000);
  let apiUrl: string;
  let processor: FundingProcessor;

  before(async function () {
    this.timeout(180_000);
    apiUrl = (await stripeMock()).url;
    processor = createStripeFundingProcessor({ secretKey: 'sk_test_finflow', apiUrl, pollAttempts: 1, pollIntervalMs: 10 });
  });

  it("creates and confirms a PaymentIntent stripe-mock accepts, mapping its fixture's requires_payment_method to declined", async () => {
    assert.deepEqual(await processor.charge(chargeRequest('pm_card_visa')), { status: 'declined', reason: 'payment_failed' });
  });

  it('answers not_found for a charge id no PaymentIntent carries', async () => {
    assert.deepEqual(await processor.getCharge(`funding:${randomUUID()}:charge`), { status: 'not_found' });
  });

  it('throws, and does not decline, when Stripe refuses the API key', async () => {
    const unauthorised = createStripeFundingProcessor({ secretKey: 'not-a-key', apiUrl, pollAttempts: 1, pollIntervalMs: 10 });
    await assert.rejects(unauthorised.charge(chargeRequest('pm_card_visa')), Stripe.errors.StripeAuthenticationError);
  });
});

interface Seen {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  form: URLSearchParams;
}

/**
 * A stand-in for api.stripe.com that answers with recorded bodies, scripted by the
 * PaymentMethod id. It keeps the intents it made, by charge id, for retrieve and search.
 */
function startRecordedStripe() {
  const intents = new Map<string, Record<string, unknown>>();
  const retrieves = new Map<string, number>();
  const seen: Seen[] = [];
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomUUID().slice(0, 8)}` });
    res.end(JSON.stringify(body));
  };
  const intentFor = (chargeId: string, status: string) => {
    const intent = { ...recorded('payment_intent'), id: `pi_${randomUUID().replace(/-/g, '').slice(0, 20)}`, status, metadata: { [STRIPE_CHARGE_ID_METADATA]: chargeId } };
    intents.set(chargeId, intent);
    return intent;
  };

  function create(req: IncomingMessage, res: ServerResponse, form: URLSearchParams) {
    const chargeId = form.get(`metadata[${STRIPE_CHARGE_ID_METADATA}]`) ?? '';
    switch (form.get('payment_method')) {
      case 'pm_card_visa':
        return send(res, 200, intentFor(chargeId, 'succeeded'));
      case 'pm_card_chargeDeclinedInsufficientFunds':
        return send(res, 402, recorded('error.card_declined.insufficient_funds'));
      case 'pm_unknown':
        return send(res, 400, recorded('error.resource_missing.payment_method'));
      case 'pm_in_use':
        return send(res, 409, recorded('error.idempotency_key_in_use'));
      case 'pm_api_error':
        return send(res, 500, recorded('error.api_error'));
      case 'pm_processing_then_succeeded':
      case 'pm_processing_forever':
        return send(res, 200, intentFor(chargeId, 'processing'));
      case 'pm_timeout_after_success':
        // Stripe made the intent, but its answer never arrives.
        intentFor(chargeId, 'succeeded');
        return;
      case 'pm_timeout_lost':
        return;
      default:
        return send(res, 400, recorded('error.resource_missing.payment_method'));
    }
  }

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const form = new URLSearchParams(req.method === 'GET' ? url.search : raw);
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
      seen.push({ method: req.method ?? '', path: url.pathname, idempotencyKey, form });
      if (req.method === 'POST' && url.pathname === '/v1/payment_intents') return create(req, res, form);
      if (req.method === 'GET' && url.pathname === '/v1/payment_intents/search') {
        const chargeId = /:'(.*)'$/.exec(form.get('query') ?? '')?.[1] ?? '';
        const found = intents.get(chargeId);
        return send(res, 200, { object: 'search_result', url: '/v1/payment_intents/search', has_more: false, next_page: null, data: found ? [found] : [] });
      }
      const id = /^\/v1\/payment_intents\/([^/]+)$/.exec(url.pathname)?.[1];
      const entry = [...intents.entries()].find(([, intent]) => intent.id === id);
      if (req.method === 'GET' && entry) {
        const [chargeId, intent] = entry;
        const count = (retrieves.get(chargeId) ?? 0) + 1;
        retrieves.set(chargeId, count);
        const settles = seen.find((s) => s.form.get(`metadata[${STRIPE_CHARGE_ID_METADATA}]`) === chargeId)?.form.get('payment_method') === 'pm_processing_then_succeeded';
        return send(res, 200, settles && count >= 2 ? { ...intent, status: 'succeeded' } : intent);
      }
      return send(res, 404, recorded('error.resource_missing.payment_method'));
    });
  });
  return { server, seen, retrieves };
}

describe('Stripe funding adapter, outcomes from recorded Stripe responses', () => {
  let stripe: ReturnType<typeof startRecordedStripe>;
  let apiUrl: string;
  let processor: FundingProcessor;
  const stripeOptions = () => ({ secretKey: 'sk_test_finflow', apiUrl, timeoutMs: 300, pollAttempts: 3, pollIntervalMs: 10 });

  before(async () => {
    stripe = startRecordedStripe();
    stripe.server.listen(0, '127.0.0.1');
    await once(stripe.server, 'listening');
    apiUrl = `http://127.0.0.1:${(stripe.server.address() as AddressInfo).port}`;
    processor = createStripeFundingProcessor(stripeOptions());
  });

  after(async () => {
    stripe.server.closeAllConnections();
    stripe.server.close();
    await once(stripe.server, 'close');
  });

  const createCall = (chargeId: string) => stripe.seen.find((s) => s.path === '/v1/payment_intents' && s.form.get(`metadata[${STRIPE_CHARGE_ID_METADATA}]`) === chargeId)!;

  it('maps a succeeded PaymentIntent to succeeded with the intent id', async () => {
    const outcome = await processor.charge(chargeRequest('pm_card_visa'));
    assert.equal(outcome.status, 'succeeded');
    assert.match((outcome as { processorChargeId: string }).processorChargeId, /^pi_/);
  });

  it("sends the charge id as Stripe's Idempotency-Key", async () => {
    const request = chargeRequest('pm_card_visa');
    await processor.charge(request);
    assert.equal(createCall(request.chargeId).idempotencyKey, request.chargeId);
  });

  it('confirms one PaymentIntent with the given payment method, amount and currency', async () => {
    const request = chargeRequest('pm_card_visa');
    await processor.charge(request);
    const form = createCall(request.chargeId).form;
    assert.deepEqual(
      ['confirm', 'payment_method', 'amount', 'currency'].map((name) => form.get(name)),
      ['true', 'pm_card_visa', '5000', 'usd'],
    );
  });

  it('maps a card_declined error to declined with the decline code', async () => {
    assert.deepEqual(await processor.charge(chargeRequest('pm_card_chargeDeclinedInsufficientFunds')), { status: 'declined', reason: 'insufficient_funds' });
  });

  it('maps a PaymentMethod Stripe does not know to invalid_token', async () => {
    assert.deepEqual(await processor.charge(chargeRequest('pm_unknown')), { status: 'declined', reason: 'invalid_token' });
  });

  it('polls a processing intent until it succeeds', async () => {
    const outcome = await processor.charge(chargeRequest('pm_processing_then_succeeded'));
    assert.equal(outcome.status, 'succeeded');
  });

  it('answers unknown when the intent is still processing after the last poll', async () => {
    const request = chargeRequest('pm_processing_forever');
    assert.deepEqual(await processor.charge(request), { status: 'unknown' });
    assert.equal(stripe.retrieves.get(request.chargeId), 3, 'polled exactly pollAttempts times');
  });

  it('stops polling when another read-back could overrun its time budget', async () => {
    const budgeted = createStripeFundingProcessor({ ...stripeOptions(), pollAttempts: 50, chargeBudgetMs: 400 });
    const request = chargeRequest('pm_processing_forever');
    const startedAt = Date.now();
    assert.deepEqual(await budgeted.charge(request), { status: 'unknown' });
    assert.ok(Date.now() - startedAt < 400, `took ${Date.now() - startedAt} ms`);
  });

  it('finds the outcome by polling when the call timed out after Stripe made the intent', async () => {
    assert.equal((await processor.charge(chargeRequest('pm_timeout_after_success'))).status, 'succeeded');
  });

  it('answers unknown when the call timed out and Stripe has no intent for the charge', async () => {
    assert.deepEqual(await processor.charge(chargeRequest('pm_timeout_lost')), { status: 'unknown' });
  });

  it('answers unknown after a 500 when Stripe has no intent for the charge', async () => {
    assert.deepEqual(await processor.charge(chargeRequest('pm_api_error')), { status: 'unknown' });
  });

  it('throws on idempotency_key_in_use (409) instead of declining: the first call may still charge', async () => {
    await assert.rejects(processor.charge(chargeRequest('pm_in_use')), Stripe.errors.StripeAPIError);
  });

  it('reads a charge back by the charge id in its metadata', async () => {
    const request = chargeRequest('pm_card_visa');
    const charged = await processor.charge(request);
    assert.deepEqual(await processor.getCharge(request.chargeId), charged);
  });

  it('reads a processing charge back as pending', async () => {
    const request = chargeRequest('pm_processing_forever');
    await processor.charge(request);
    assert.deepEqual(await processor.getCharge(request.chargeId), { status: 'pending' });
  });
});
