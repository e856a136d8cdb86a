/**
 * The email port: one plain-text message to one address. Implementations are the
 * sandbox (no network; the outbox row is the message) and SMTP (nodemailer). Like the
 * SMS port, a provider only sends and says how a failure should be treated; the
 * notifier decides when to call it and records the outcome in the outbox.
 */

export type EmailProviderName = 'sandbox' | 'smtp';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  /** The outbox dedupe key (`<workflowId>:<step>` or `verification:<id>`); sent as a header. */
  reference: string;
}

export interface EmailSendResult {
  providerMessageId: string;
}

export interface EmailProvider {
  readonly name: EmailProviderName;
  send(message: EmailMessage): Promise<EmailSendResult>;
}

/** `rejected` and `auth_failed` fail again however often they are retried; the rest may pass later. */
export type EmailFailureReason = 'rejected' | 'auth_failed' | 'provider_error' | 'unreachable';

export class EmailSendError extends Error {
  constructor(
    readonly reason: EmailFailureReason,
    readonly retryable: boolean,
    detail: string,
  ) {
    super(detail);
    this.name = 'EmailSendError';
  }

  get description(): string {
    return this.message ? `${this.reason}: ${this.message}` : this.reason;
  }
}
