import twilio from 'twilio';
import { SmsSendError, type SmsMessage, type SmsProvider, type SmsSendResult } from './port';

/**
 * Twilio through its official SDK. `apiUrl` replaces https://api.twilio.com for the
 * messaging calls (the SDK's `api` domain), which is how the tests point the real SDK
 * code path at a local stand-in.
 */

export const TWILIO_DEFAULT_API_URL = 'https://api.twilio.com';
/** Shorter than the provider activity's start-to-close timeout, so a hung call is retried. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  /** The sender: a Twilio number or a Messaging Service SID (`MG…`). */
  from: string;
  apiUrl?: string;
  /** Where Twilio posts delivery receipts; omitted, Twilio sends none. */
  statusCallbackUrl?: string;
  timeoutMs?: number;
}

/**
 * Twilio error codes finflow treats specially (twilio.com/docs/api/errors): the number
 * is not a valid mobile number, the recipient opted out, the account cannot send there.
 */
const INVALID_NUMBER_CODES = new Set([21211, 21614, 21217, 21401, 21407]);
const BLOCKED_CODES = new Set([21610, 21612, 21408, 30004, 30007]);

export function createTwilioSms(options: TwilioSmsOptions): SmsProvider {
  const client = twilio(options.accountSid, options.authToken, { timeout: options.timeoutMs ?? REQUEST_TIMEOUT_MS, autoRetry: false });
  if (options.apiUrl) client.api.baseUrl = options.apiUrl.replace(/\/+$/, '');
  const sender: { from?: string; messagingServiceSid?: string } = options.from.startsWith('MG') ? { messagingServiceSid: options.from } : { from: options.from };

  return {
    name: 'twilio',
    channels: ['sms', 'whatsapp'],
    // Twilio's message API takes no idempotency key, so `reference` is not sent: the
    // outbox claim is what keeps a message from going out twice.
    async send({ to, body, channel }: SmsMessage): Promise<SmsSendResult> {
      // WhatsApp is the same API with both addresses prefixed (a Messaging Service picks its own sender).
      const address = (phone: string) => (channel === 'whatsapp' ? `whatsapp:${phone}` : phone);
      const from = sender.from === undefined ? sender : { from: address(sender.from) };
      try {
        const message = await client.messages.create({ to: address(to), body, ...from, ...(options.statusCallbackUrl ? { statusCallback: options.statusCallbackUrl } : {}) });
        if (!message.sid) throw new SmsSendError('provider_error', true, 'Twilio answered without a message sid');
        return { providerMessageId: message.sid };
      } catch (err) {
        throw toTwilioSendError(err);
      }
    },
  };
}

/** Maps a rejection of the SDK (a RestException with status and code, or a network error) to an SmsSendError. */
export function toTwilioSendError(err: unknown): SmsSendError {
  if (err instanceof SmsSendError) return err;
  const { status, code, message } = (err ?? {}) as { status?: unknown; code?: unknown; message?: unknown };
  const detail = `${typeof message === 'string' ? message : String(err)}`.split('\n')[0] ?? '';
  if (typeof status !== 'number') {
    if (/timeout|ECONNABORTED|ETIMEDOUT/i.test(detail)) return new SmsSendError('timeout', true, detail);
    if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket hang up/i.test(detail)) return new SmsSendError('unreachable', true, detail);
    return new SmsSendError('rejected', false, detail);
  }
  const label = `HTTP ${status}${typeof code === 'number' ? ` (Twilio ${code})` : ''}: ${detail}`;
  if (status === 429 || code === 20429) return new SmsSendError('rate_limited', true, label);
  if (status >= 500) return new SmsSendError('provider_error', true, label);
  if (status === 401 || code === 20003) return new SmsSendError('auth_failed', false, label);
  if (typeof code === 'number' && INVALID_NUMBER_CODES.has(code)) return new SmsSendError('invalid_number', false, label);
  if (typeof code === 'number' && BLOCKED_CODES.has(code)) return new SmsSendError('blocked', false, label);
  if (status === 403) return new SmsSendError('blocked', false, label);
  return new SmsSendError('rejected', false, label);
}

/** The header Twilio signs its webhooks with (HMAC-SHA1 over the URL and the sorted POST params). */
export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * Checks a Twilio signature with the SDK's validator. `url` must be the URL Twilio called,
 * as Twilio saw it; `params` the posted form fields exactly as sent.
 */
export function isValidTwilioSignature(input: { authToken: string; signature: string; url: string; params: Record<string, string> }): boolean {
  return twilio.validateRequest(input.authToken, input.signature, input.url, input.params);
}
