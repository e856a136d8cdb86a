import type { LimitExceededError } from '../../limits/limits';

/**
 * Every HTTP error finflow answers with, as factories of one class. The problem
 * middleware renders them as RFC 9457 problem+json; `type` is a stable token that
 * clients may switch on, `errors[]` names each invalid field.
 */

export interface FieldError {
  /** Dotted path of the field inside its location, e.g. `to.email`. */
  field: string;
  in: 'body' | 'query' | 'path' | 'header';
  code: string;
  message: string;
}

export type ProblemType =
  | 'validation_error'
  | 'malformed_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'account_not_found'
  | 'recipient_not_found'
  | 'recipient_not_verified'
  | 'verification_failed'
  | 'verification_not_delivered'
  | 'biller_not_found'
  | 'invalid_customer_reference'
  | 'amount_out_of_range'
  | 'biller_unavailable'
  | 'payment_not_cancellable'
  | 'payment_not_in_review'
  | 'limit_exceeded'
  | 'user_not_found'
  | 'insufficient_funds'
  | 'exceeds_credit_limit'
  | 'currency_mismatch'
  | 'method_not_allowed'
  | 'conflict'
  | 'idempotency_key_in_use'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'dependency_unavailable'
  | 'internal_error'
  // Issue 13: wallet customers' gaps.
  | 'payment_not_retryable'
  | 'insufficient_cashback'
  | 'current_password_incorrect'
  // campaigns
  | 'campaign_invalid_state'
  | 'campaign_invalid'
  // Invoices (docs/invoices.md).
  | 'mailbox_connection_failed'
  | 'mailbox_not_connected';

export class ProblemError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly type: ProblemType,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export const problems = {
  /** A campaign control its state does not allow (launch of a cancelled one): names the path's id. */
  campaignInvalidState: (detail: string) =>
    new ProblemError(409, 'campaign_invalid_state', 'Campaign state', detail, [{ field: 'id', in: 'path', code: 'invalid_state', message: detail }]),
  /** A campaign whose references do not hold (a missing template, a template of another channel). */
  campaignInvalid: (field: string, code: string, message: string) =>
    new ProblemError(422, 'campaign_invalid', 'Invalid campaign', message, [{ field, in: 'body', code, message }]),
  validation: (errors: FieldError[], detail = 'The request has invalid fields.') =>
    new ProblemError(400, 'validation_error', 'Invalid request', detail, errors),
  field: (location: FieldError['in'], field: string, code: string, message: string) =>
    problems.validation([{ field, in: location, code, message }], message),
  malformedJson: () => new ProblemError(400, 'malformed_json', 'Malformed JSON', 'The request body is not valid JSON.'),
  payloadTooLarge: (limitBytes: number) =>
    new ProblemError(413, 'payload_too_large', 'Payload too large', `The request body exceeds ${limitBytes} bytes.`),
  unsupportedMediaType: (mediaType = 'application/json') =>
    new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', `Send the body as ${mediaType}.`),
  unauthenticated: (detail = 'A valid bearer token is required.') =>
    new ProblemError(401, 'unauthenticated', 'Unauthenticated', detail, [], { 'WWW-Authenticate': 'Bearer' }),
  forbidden: (detail = 'You may not perform this action.') => new ProblemError(403, 'forbidden', 'Forbidden', detail),
  notFound: (detail = 'No such resource.') => new ProblemError(404, 'not_found', 'Not found', detail),
  /** Also for an account that exists but is not the caller's: existence is not revealed. */
  accountNotFound: (field: string, location: FieldError['in'] = 'body') =>
    new ProblemError(404, 'account_not_found', 'Account not found', 'No such account.', [
      { field, in: location, code: 'account_not_found', message: 'No such account.' },
    ]),
  userNotFound: (field: string, location: FieldError['in'] = 'path') =>
    new ProblemError(404, 'user_not_found', 'User not found', 'No such customer.', [
      { field, in: location, code: 'user_not_found', message: 'No such customer.' },
    ]),
  recipientNotFound: (field: string) =>
    new ProblemError(404, 'recipient_not_found', 'Recipient not found', 'No customer matches the recipient.', [
      { field, in: 'body', code: 'recipient_not_found', message: 'No customer matches the recipient.' },
    ]),
  /**
   * The recipient is unknown, or has not verified the email or phone named: one answer
   * for both, so a sender cannot tell an unknown contact from an unverified one.
   */
  recipientNotVerified: (field: string) =>
    new ProblemError(422, 'recipient_not_verified', 'Recipient not verified', 'No customer has verified this email or phone.', [
      { field, in: 'body', code: 'recipient_not_verified', message: 'No customer has verified this email or phone.' },
    ]),
  /** The provider refused or could not take the code's message. */
  verificationNotDelivered: (channel: 'email' | 'phone') =>
    new ProblemError(503, 'verification_not_delivered', 'Code not delivered', `The code could not be sent to your ${channel}; retry later.`, [
      { field: 'channel', in: 'body', code: 'not_delivered', message: `The code could not be sent to your ${channel}.` },
    ], { 'Retry-After': '30' }),
  billerNotFound: (field: string, location: FieldError['in'] = 'path') =>
    new ProblemError(404, 'biller_not_found', 'Biller not found', 'No such biller.', [
      { field, in: location, code: 'biller_not_found', message: 'No such biller.' },
    ]),
  /** The reference has the biller's format, but the biller does not know it. */
  invalidCustomerReference: (field = 'customerRef', detail = 'The biller does not know this customer reference.') =>
    new ProblemError(422, 'invalid_customer_reference', 'Invalid customer reference', detail, [
      { field, in: 'body', code: 'invalid_customer_reference', message: detail },
    ]),
  /** `minimum` and `maximum` as the customer reads them, e.g. `USD 5.00`. */
  amountOutOfRange: (minimum: string, maximum: string, field = 'amount') =>
    new ProblemError(422, 'amount_out_of_range', 'Amount out of range', `The amount must be between ${minimum} and ${maximum}.`, [
      { field, in: 'body', code: 'amount_out_of_range', message: `Must be between ${minimum} and ${maximum}.` },
    ]),
  billerUnavailable: () =>
    new ProblemError(503, 'biller_unavailable', 'Biller unavailable', 'The biller cannot be reached; retry later.', [], { 'Retry-After': '5' }),
  /** The biller was already called, or the payment had already ended. */
  paymentNotCancellable: (detail: string) => new ProblemError(409, 'payment_not_cancellable', 'Payment not cancellable', detail),
  /** A resolve for a payment that is not waiting for one, or that was resolved the other way. */
  paymentNotInReview: (detail: string) => new ProblemError(409, 'payment_not_in_review', 'Payment not in review', detail),
  /** Over a per-transaction or daily limit; the error's code names it (`payment.daily`). */
  limitExceeded: (err: LimitExceededError, field = 'amount') =>
    new ProblemError(422, 'limit_exceeded', 'Limit exceeded', `The ${err.message}.`, [
      { field, in: 'body', code: err.limit, message: `Exceeds the ${err.kind} ${err.window === 'daily' ? 'daily' : 'per-transaction'} limit (${err.limitMinor} minor units).` },
    ]),
  insufficientFunds: (field = 'amount') =>
    new ProblemError(422, 'insufficient_funds', 'Insufficient funds', 'The account does not have enough available funds.', [
      { field, in: 'body', code: 'insufficient_funds', message: 'Exceeds the available balance.' },
    ]),
  exceedsCreditLimit: (field = 'amount') =>
    new ProblemError(422, 'exceeds_credit_limit', 'Credit limit exceeded', 'The card does not have enough available credit.', [
      { field, in: 'body', code: 'exceeds_credit_limit', message: 'Exceeds the available credit.' },
    ]),
  currencyMismatch: (field = 'currency') =>
    new ProblemError(422, 'currency_mismatch', 'Currency mismatch', 'The currency does not match the account.', [
      { field, in: 'body', code: 'currency_mismatch', message: 'Does not match the account currency.' },
    ]),
  methodNotAllowed: (allowed: string) =>
    new ProblemError(405, 'method_not_allowed', 'Method not allowed', `Allowed: ${allowed}.`, [], { Allow: allowed }),
  conflict: (detail: string) => new ProblemError(409, 'conflict', 'Conflict', detail),
  /** A retry of a payment that did not fail, or whose bill another attempt paid or is paying. */
  paymentNotRetryable: (detail: string) => new ProblemError(409, 'payment_not_retryable', 'Payment not retryable', detail),
  /** A redemption of more cashback than is available. */
  insufficientCashback: () =>
    new ProblemError(422, 'insufficient_cashback', 'Insufficient cashback', 'The cashback account does not have that much available.', [
      { field: 'amount', in: 'body', code: 'insufficient_cashback', message: 'Exceeds the available cashback.' },
    ]),
  /** A password change whose current password is wrong. */
  currentPasswordIncorrect: () =>
    new ProblemError(422, 'current_password_incorrect', 'Current password incorrect', 'The current password is not correct; nothing was changed.', [
      { field: 'currentPassword', in: 'body', code: 'current_password_incorrect', message: 'Not your current password.' },
    ]),
  idempotencyKeyInUse: () =>
    new ProblemError(
      409,
      'idempotency_key_in_use',
      'Idempotency key in use',
      'A request with this Idempotency-Key is still being processed; retry later.',
      [],
      { 'Retry-After': '1' },
    ),
  idempotencyKeyReused: () =>
    new ProblemError(
      422,
      'idempotency_key_reused',
      'Idempotency key reused',
      'This Idempotency-Key was already used with a different request body or route.',
      [{ field: 'Idempotency-Key', in: 'header', code: 'reused', message: 'Use a new key for a different request.' }],
    ),
  rateLimited: (retryAfterSeconds: number, detail = 'Too many attempts; try again later.') =>
    new ProblemError(429, 'rate_limited', 'Too many requests', detail, [], { 'Retry-After': String(retryAfterSeconds) }),
  dependencyUnavailable: (dependency: 'postgres' | 'temporal') =>
    new ProblemError(
      503,
      'dependency_unavailable',
      'Service unavailable',
      `${dependency === 'postgres' ? 'PostgreSQL' : 'Temporal'} is unreachable; retry later.`,
      [],
      { 'Retry-After': '5' },
    ),
  /** The login test before saving a mailbox failed; `errors[0]` names the field to fix and the cause (`authentication_failed`, `host_unreachable`, `tls_mismatch`, …). */
  mailboxConnectionFailed: (field: string, cause: string, detail: string) =>
    new ProblemError(422, 'mailbox_connection_failed', 'Mailbox connection failed', detail, [{ field, in: 'body', code: cause, message: detail }]),
  mailboxNotConnected: () => new ProblemError(409, 'mailbox_not_connected', 'No mailbox connected', 'Connect a mailbox first (PUT /v1/me/mailbox).'),
  internal: () => new ProblemError(500, 'internal_error', 'Internal error', 'Something went wrong on our side.'),
} as const;
