import * as plivo from 'plivo';
import { SmsSendError, type SmsMessage, type SmsProvider, type SmsSendResult } from './port';

/**
 * Plivo through its official SDK. `apiUrl` replaces https://api.plivo.com for messaging
 * calls (the SDK takes the account URL as its `url` option), which is how the tests
 * point the real SDK code path at a local stand-in.
 */

export const PLIVO_DEFAULT_API_URL = 'https://api.plivo.com';
/** Shorter than the provider activity's start-to-close timeout, so a hung call is retried. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface PlivoSmsOptions {
  authId: string;
  authToken: string;
  /** The sender: a Plivo number or alphanumeric sender id. */
  sourceNumber: string;
  apiUrl?: string;
  /** Where Plivo posts delivery receipts; omitted, Plivo sends none. */
  statusCallbackUrl?: string;
  timeoutMs?: number;
}

export function createPlivoSms(options: PlivoSmsOptions): SmsProvider {
  const base = (options.apiUrl ?? PLIVO_DEFAULT_API_URL).replace(/\/+$/, '');
  const client = new plivo.Client(options.authId, options.authToken, {
    url: `${base}/v1/Account/${options.authId}`,
    timeout: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
  });

  return {
    name: 'plivo',
    // finflow sends WhatsApp through Twilio only.
    channels: ['sms'],
    // Plivo's message API takes no client reference or idempotency key, so `reference`
    // is not sent: the outbox claim is what keeps a message from going out twice.
    async send({ to, body }: SmsMessage): Promise<SmsSendResult> {
      const callback = options.statusCallbackUrl ? { url: options.statusCallbackUrl, method: 'POST' } : {};
      let response: { messageUuid?: string[]; invalidNumber?: string[]; invalid_number?: string[] };
      try {
        response = await client.messages.create(options.sourceNumber, to, body, callback);
      } catch (err) {
        throw toSmsSendError(err);
      }
      const id = response.messageUuid?.[0];
      if (id) return { providerMessageId: id };
      if ((response.invalid_number ?? response.invalidNumber)?.length) {
        throw new SmsSendError('invalid_number', false, `Plivo reported ${to} as invalid`);
      }
      throw new SmsSendError('provider_error', true, 'Plivo answered without a message uuid');
    },
  };
}

/**
 * Maps whatever the SDK rejects with to an SmsSendError. The SDK is uneven: 400, 401,
 * 404 and 500 become PlivoRestError with `status`; other statuses (429, 502, 503, a
 * non-geo 403) a plain Error whose message ends "status code NNN"; and a call that got
 * no response (timeout, refused connection) rejects with the stack trace as a string.
 */
export function toSmsSendError(err: unknown): SmsSendError {
  if (err instanceof SmsSendError) return err;
  const text = typeof err === 'string' ? err : err instanceof Error ? err.message : String(err);
  const detail = text.split('\n')[0] ?? '';
  const status = httpStatusOf(err, text);
  if (status === undefined) {
    if (/timeout|ECONNABORTED|ETIMEDOUT/i.test(text)) return new SmsSendError('timeout', true, detail);
    if (typeof err === 'string' || /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket hang up/i.test(text)) {
      return new SmsSendError('unreachable', true, detail);
    }
    // The SDK's own argument checks (e.g. no source number) fail the same way every time.
    return new SmsSendError('rejected', false, detail);
  }
  if (status === 429) return new SmsSendError('rate_limited', true, detail);
  if (status >= 500) return new SmsSendError('provider_error', true, `HTTP ${status}: ${detail}`);
  if (status === 401) return new SmsSendError('auth_failed', false, `HTTP 401: ${detail}`);
  if (status === 403) return new SmsSendError('blocked', false, `HTTP 403: ${detail}`);
  if (/\b(dst|destination|number)\b/i.test(detail)) return new SmsSendError('invalid_number', false, `HTTP ${status}: ${detail}`);
  return new SmsSendError('rejected', false, `HTTP ${status}: ${detail}`);
}

function httpStatusOf(err: unknown, text: string): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return status;
  const match = /status code (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The two headers Plivo signs its callbacks with (V3: HMAC-SHA256 over URL, params and nonce). */
export const PLIVO_SIGNATURE_HEADER = 'x-plivo-signature-v3';
export const PLIVO_NONCE_HEADER = 'x-plivo-signature-v3-nonce';

/**
 * Checks a Plivo V3 signature with the SDK's validator. `url` must be the URL Plivo
 * called, as Plivo saw it (scheme, host, path and query); `params` the posted form
 * fields exactly as sent.
 */
export function isValidPlivoSignature(input: {
  method: 'GET' | 'POST';
  url: string;
  nonce: string;
  signature: string;
  authToken: string;
  params: Record<string, string | string[]>;
}): boolean {
  return Boolean(plivo.validateV3Signature(input.method, input.url, input.nonce, input.authToken, input.signature, input.params));
}
