import { setTimeout as delay } from 'node:timers/promises';
import Stripe from 'stripe';
import type { ChargeOutcome, ChargeRequest, ChargeStatus, FundingProcessor } from './port';

/**
 * Stripe through its official SDK: one PaymentIntent per funding, created and confirmed
 * in one call with the customer's PaymentMethod (`source.token`, a `pm_…` id made
 * client-side with Stripe.js). finflow's charge id is Stripe's `Idempotency-Key`, so a
 * retried charge never charges twice, and it is also stored in the PaymentIntent's
 * metadata so getCharge() can find the intent when the answer to the create was lost.
 *
 * What Stripe says is mapped to the funding port:
 * - `succeeded` → succeeded;
 * - a card error (HTTP 402), `requires_payment_method` after the confirm, `canceled`, or
 *   a request Stripe refused as invalid (HTTP 400: nothing was charged) → declined;
 * - `processing`, a timeout or a 5xx → the intent is read back (polled, a bounded number
 *   of times) and, while Stripe still has no final answer, `unknown`: the funding
 *   workflow then keeps asking getCharge() on its own backoff;
 * - authentication, permission, rate-limit and idempotency errors throw: nothing was
 *   charged, and the activity retries under the same charge id.
 */

export const STRIPE_CHARGE_ID_METADATA = 'finflow_charge_id';
/** One HTTP call to Stripe. */
const REQUEST_TIMEOUT_MS = 8_000;
/**
 * All of one charge() — the create and every read-back — fits in this, under the provider
 * activity's 30 s start-to-close timeout, so the activity answers `unknown` rather than
 * being cut off mid-poll.
 */
const CHARGE_BUDGET_MS = 25_000;

export interface StripeFundingOptions {
  secretKey: string;
  /** A local stand-in (stripe-mock, a recorded-response server) instead of api.stripe.com. */
  apiUrl?: string;
  timeoutMs?: number;
  /** How often charge() reads back an intent without a final answer before it says `unknown`. */
  pollAttempts?: number;
  /** The first wait between read-backs; it doubles after each. */
  pollIntervalMs?: number;
  /** How long one charge() may take in all; no read-back starts that could overrun it. */
  chargeBudgetMs?: number;
}

type PaymentIntent = Stripe.PaymentIntent;

function clientOptions(options: StripeFundingOptions): Stripe.StripeConfig {
  const config: Stripe.StripeConfig = {
    timeout: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
    // Temporal retries the activity; the SDK's own retries would hide a timeout from the polling below.
    maxNetworkRetries: 0,
    appInfo: { name: 'finflow' },
  };
  if (!options.apiUrl) return config;
  const url = new URL(options.apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { ...config, host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol };
}

/** Stripe takes the amount as an integer of minor units; beyond 2^53 it is not a real charge. */
function stripeAmount(amountMinor: bigint): number {
  if (amountMinor <= 0n || amountMinor > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`amount ${amountMinor} cannot be charged`);
  return Number(amountMinor);
}

/** The intent's state as the port knows it; `pending` while Stripe has no final answer. */
export function statusOfIntent(intent: PaymentIntent): ChargeStatus {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded', processorChargeId: intent.id };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return { status: 'declined', reason: error?.decline_code ?? error?.code ?? 'payment_failed' };
    }
    case 'canceled':
      return { status: 'declined', reason: intent.cancellation_reason ?? 'canceled' };
    case 'requires_action':
      // 3-D Secure or a redirect: the customer must act, which a server-side funding cannot do.
      return { status: 'declined', reason: 'authentication_required' };
    default:
      // processing, requires_confirmation, requires_capture: not final yet.
      return { status: 'pending' };
  }
}

const isLostAnswer = (err: unknown) =>
  err instanceof Stripe.errors.StripeConnectionError || (err instanceof Stripe.errors.StripeAPIError && (err.statusCode ?? 500) >= 500);

/** A refusal that proves nothing was charged, as the port's decline; otherwise undefined. */
function declineOf(err: unknown): ChargeOutcome | undefined {
  if (err instanceof Stripe.errors.StripeCardError) return { status: 'declined', reason: err.decline_code ?? err.code ?? 'card_declined' };
  // A 409 (`idempotency_key_in_use`: the first call with this key still runs) proves nothing.
  if (err instanceof Stripe.errors.StripeInvalidRequestError && (err.statusCode === 400 || err.statusCode === 404)) {
    // The PaymentMethod is not one Stripe knows (or not usable): a bad token, as the sandbox calls it.
    if (err.param === 'payment_method' || err.code === 'resource_missing') return { status: 'declined', reason: 'invalid_token' };
    return { status: 'declined', reason: err.code ?? 'invalid_request' };
  }
  return undefined;
}

export function createStripeFundingProcessor(options: StripeFundingOptions): FundingProcessor {
  const stripe = new Stripe(options.secretKey, clientOptions(options));
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const pollAttempts = options.pollAttempts ?? 4;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const chargeBudgetMs = options.chargeBudgetMs ?? CHARGE_BUDGET_MS;

  async function findIntent(chargeId: string): Promise<PaymentIntent | undefined> {
    // Search is eventually consistent: a just-created intent may be missing for a moment.
    // Missing is then answered `not_found` and the workflow charges again under the same
    // idempotency key, which Stripe answers with the original intent.
    const found = await stripe.paymentIntents.search({ query: `metadata['${STRIPE_CHARGE_ID_METADATA}']:'${chargeId.replace(/'/g, "\\'")}'`, limit: 1 });
    return found.data.find((intent) => intent.metadata?.[STRIPE_CHARGE_ID_METADATA] === chargeId);
  }

  /** Reads back an intent without a final answer until it has one or a bound is reached. */
  async function settle(read: () => Promise<PaymentIntent | undefined>, deadline: number): Promise<ChargeOutcome> {
    let waitMs = pollIntervalMs;
    for (let attempt = 0; attempt < pollAttempts; attempt++) {
      if (Date.now() + waitMs + timeoutMs > deadline) break;
      await delay(waitMs);
      waitMs *= 2;
      let intent: PaymentIntent | undefined;
      try {
        intent = await read();
      } catch (err) {
        if (isLostAnswer(err)) continue;
        throw err;
      }
      const status = intent ? statusOfIntent(intent) : { status: 'not_found' as const };
      if (status.status === 'succeeded' || status.status === 'declined') return status;
    }
    return { status: 'unknown' };
  }

  return {
    name: 'stripe',

    async charge(request: ChargeRequest): Promise<ChargeOutcome> {
      const deadline = Date.now() + chargeBudgetMs;
      let intent: PaymentIntent;
      try {
        intent = await stripe.paymentIntents.create(
          {
            amount: stripeAmount(request.amountMinor),
            currency: request.currency.toLowerCase(),
            payment_method: request.source.token,
            allowed_payment_method_types: [request.source.type === 'card' ? 'card' : 'us_bank_account'],
            confirm: true,
            metadata: { [STRIPE_CHARGE_ID_METADATA]: request.chargeId },
          },
          { idempotencyKey: request.chargeId },
        );
      } catch (err) {
        const decline = declineOf(err);
        if (decline) return decline;
        // The call may or may not have reached Stripe: look for the intent it would have made.
        if (isLostAnswer(err)) return settle(() => findIntent(request.chargeId), deadline);
        throw err;
      }
      const status = statusOfIntent(intent);
      if (status.status === 'succeeded' || status.status === 'declined') return status;
      return settle(() => stripe.paymentIntents.retrieve(intent.id), deadline);
    },

    async getCharge(chargeId: string): Promise<ChargeStatus> {
      const intent = await findIntent(chargeId);
      return intent ? statusOfIntent(intent) : { status: 'not_found' };
    },
  };
}
