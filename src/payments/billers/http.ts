import { z } from 'zod';
import {
  BillerUnavailableError,
  type Biller,
  type BillerPaymentStatus,
  type BillerPort,
  type CustomerValidation,
  type PayBillerOutcome,
  type PayBillerRequest,
} from './port';

/**
 * A biller aggregator reached by JSON over HTTP (the protocol is in docs/payments.md):
 *
 * - `POST /v1/customers/validate` {billerId, customerRef} → {valid, customerName, amountDue} | {valid: false, reason}
 * - `POST /v1/payments` {paymentId, billerId, customerRef, amount, currency}, with
 *   `Idempotency-Key: <paymentId>` → {status: accepted, reference} | {status: declined, reason} | {status: pending}
 * - `GET /v1/payments/{paymentId}?billerId=` → the same statuses, or 404 when the payment is unknown
 *
 * Every call carries `Authorization: Bearer <apiKey>`. Amounts are minor units as decimal
 * strings. A timeout, a refused connection, a 408, 429 or 5xx is BillerUnavailableError
 * (the caller retries under the same payment id); a 409 on a payment is the aggregator
 * refusing a reused idempotency key with other details.
 */

const REQUEST_TIMEOUT_MS = 10_000;

export interface HttpBillerOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
}

const amount = z.string().regex(/^(0|[1-9][0-9]*)$/);

const ValidationAnswer = z.discriminatedUnion('valid', [
  z.object({ valid: z.literal(true), customerName: z.string().min(1), amountDue: amount.nullable().optional() }),
  z.object({ valid: z.literal(false), reason: z.enum(['unknown_customer', 'invalid_format']) }),
]);

const PaymentAnswer = z.discriminatedUnion('status', [
  z.object({ status: z.literal('accepted'), reference: z.string().min(1) }),
  z.object({ status: z.literal('declined'), reason: z.string().min(1) }),
  z.object({ status: z.literal('pending') }),
]);

/** Statuses after which a retry of the same call may succeed: nothing is decided yet. */
const TRANSIENT = new Set([408, 425, 429]);

export function createHttpBillerPort(options: HttpBillerOptions): BillerPort {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;

  async function call(biller: Biller, what: string, path: string, init: { method: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string> }) {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: init.method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new BillerUnavailableError(biller.id, `${what}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}`);
    }
    if (response.status >= 500 || TRANSIENT.has(response.status)) {
      await response.body?.cancel();
      throw new BillerUnavailableError(biller.id, `${what}: HTTP ${response.status}`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  }

  /** Anything but a 2xx the caller did not expect: our request or our credentials are wrong. */
  function unexpected(biller: Biller, what: string, status: number): Error {
    return new Error(`biller ${biller.id} refused ${what} with HTTP ${status}`);
  }

  function parse<T>(schema: z.ZodType<T>, biller: Biller, what: string, json: unknown): T {
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error(`biller ${biller.id} answered ${what} with an unexpected body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  return {
    name: 'http',

    async validate(biller: Biller, customerRef: string): Promise<CustomerValidation> {
      const { status, json } = await call(biller, 'validate', '/v1/customers/validate', { method: 'POST', body: { billerId: biller.id, customerRef } });
      if (status !== 200) throw unexpected(biller, 'validate', status);
      const answer = parse(ValidationAnswer, biller, 'validate', json);
      if (!answer.valid) return answer;
      return { valid: true, customerName: answer.customerName, amountDueMinor: answer.amountDue == null ? null : BigInt(answer.amountDue) };
    },

    async pay(request: PayBillerRequest): Promise<PayBillerOutcome> {
      const { biller } = request;
      const body = {
        paymentId: request.paymentId,
        billerId: biller.id,
        customerRef: request.customerRef,
        amount: request.amountMinor.toString(),
        currency: request.currency,
      };
      const { status, json } = await call(biller, 'pay', '/v1/payments', { method: 'POST', body, headers: { 'idempotency-key': request.paymentId } });
      if (status === 409) return { status: 'declined', reason: 'payment_id_reused' };
      if (status !== 200 && status !== 201 && status !== 202) throw unexpected(biller, 'pay', status);
      const answer = parse(PaymentAnswer, biller, 'pay', json);
      if (answer.status === 'accepted') return { status: 'accepted', billerReference: answer.reference };
      if (answer.status === 'declined') return answer;
      // Taken, not decided: the saga asks getPaymentStatus.
      return { status: 'unknown' };
    },

    async getPaymentStatus({ biller, paymentId }: { biller: Biller; paymentId: string }): Promise<BillerPaymentStatus> {
      const path = `/v1/payments/${encodeURIComponent(paymentId)}?billerId=${encodeURIComponent(biller.id)}`;
      const { status, json } = await call(biller, 'status', path, { method: 'GET' });
      if (status === 404) return { status: 'not_found' };
      if (status !== 200) throw unexpected(biller, 'status', status);
      const answer = parse(PaymentAnswer, biller, 'status', json);
      return answer.status === 'accepted' ? { status: 'accepted', billerReference: answer.reference } : answer;
    },
  };
}
