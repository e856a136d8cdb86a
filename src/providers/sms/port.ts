/**
 * The SMS port: one outbound text to one phone. Implementations are the sandbox (no
 * network, scripted outcomes) and Plivo (the official SDK). The notifier decides when
 * to call it; a provider only sends and reports how a failure should be treated.
 */

export type SmsProviderName = 'sandbox' | 'plivo' | 'twilio';

export interface SmsMessage {
  /** E.164 phone number. */
  to: string;
  body: string;
  /**
   * The outbox dedupe key (`<workflowId>:<step>`). Handed to providers that accept a
   * client reference; the sandbox also uses it to find the row its receipt updates.
   */
  reference: string;
  /** `whatsapp` goes through WhatsApp where the provider offers it (Twilio); default `sms`. */
  channel?: MessageChannel;
}

export type MessageChannel = 'sms' | 'whatsapp';

/** What a provider knows of a message it was handed, found by the sender's reference. */
export interface SmsLookup {
  providerMessageId: string;
  status: 'sent' | 'delivered' | 'undelivered' | 'failed';
}

export interface SmsSendResult {
  providerMessageId: string;
}

export interface SmsProvider {
  readonly name: SmsProviderName;
  send(message: SmsMessage): Promise<SmsSendResult>;
  /**
   * The message sent under `reference`, or undefined when the provider never took one.
   * Only where the provider can answer by the sender's reference (the sandbox); the
   * campaigns line reconciles an unknown outcome with it instead of sending again.
   */
  lookup?(reference: string): Promise<SmsLookup | undefined>;
  /** The channels this provider can send on; absent, `sms` only. */
  readonly channels?: readonly MessageChannel[];
}

/**
 * Why a send failed, as a stable token. `invalid_number`, `blocked`, `rejected` and
 * `auth_failed` will fail again however often they are retried; the rest may pass later.
 */
export type SmsFailureReason =
  | 'invalid_number'
  | 'blocked'
  | 'rejected'
  | 'auth_failed'
  | 'rate_limited'
  | 'provider_error'
  | 'timeout'
  | 'unreachable';

export class SmsSendError extends Error {
  constructor(
    readonly reason: SmsFailureReason,
    readonly retryable: boolean,
    detail: string,
  ) {
    super(detail);
    this.name = 'SmsSendError';
  }

  /** What the outbox records in `error_reason`: the token, then the provider's words. */
  get description(): string {
    return this.message ? `${this.reason}: ${this.message}` : this.reason;
  }
}
