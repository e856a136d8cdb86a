import type { UnstatedRule } from './route';

/**
 * Rules routes enforce that JSON Schema cannot state: they compare fields, depend on
 * today's date, on stored data or on a registry (IANA timezones, phone numbering plans).
 * Each route lists the ones it applies in `rules`; the OpenAPI document names them
 * (`x-finflow-unstated-rules`), so a schema-valid request refused for one is expected.
 */

const rule = (name: string, location: UnstatedRule['in'], field: string, code: string, description: string): UnstatedRule => ({
  rule: name,
  in: location,
  field,
  code,
  description,
});

export const RULES = {
  passwordPolicy: rule(
    'password-policy',
    'body',
    'password',
    'custom',
    'The password must not be one character repeated, a common password, or contain the local part of the email.',
  ),
  phoneNumberValid: rule('phone-number-valid', 'body', 'phone', 'custom', 'The phone must be a number its country’s numbering plan assigns, not only E.164-shaped.'),
  dateOfBirthRange: rule('date-of-birth-range', 'body', 'dateOfBirth', 'custom', 'The date of birth must be a real date, not in the future, and make the customer of age today.'),
  timezone: rule('iana-timezone', 'body', 'timezone', 'custom', 'The timezone must be an IANA name, e.g. America/New_York.'),
  startDate: rule('start-date-today-or-later', 'body', 'startDate', 'custom', 'startDate must be a calendar date, today or later in `timezone`.'),
  fromBeforeTo: rule('from-before-to', 'query', 'from', 'custom', '`from` must be before `to` when both are given.'),
  billerReferenceFormat: rule(
    'biller-reference-format',
    'body',
    'customerRef',
    'invalid_format',
    "customerRef must match the biller's `customerRefPattern` (GET /v1/billers/{id}).",
  ),
  billerKnowsReference: rule('biller-knows-reference', 'body', 'customerRef', 'invalid_customer_reference', 'The biller must know the customer reference (422).'),
  billerAmountLimits: rule('biller-amount-limits', 'body', 'amount', 'amount_out_of_range', "amount must be within the biller's minimum and maximum (422)."),
  creditLimitForCards: rule('credit-limit-for-cards', 'body', 'creditLimit', 'custom', 'creditLimit is required for a credit card and refused for any other account type.'),
  statementDayForCards: rule('statement-day-for-cards', 'body', 'statementDay', 'custom', 'statementDay is refused for any account type but a credit card.'),
  postingDirection: rule('posting-direction', 'body', 'direction', 'custom', "direction must be the one the posting's code implies (e.g. a salary is a credit)."),
  availableBalance: rule('available-balance', 'body', 'amount', 'insufficient_funds', "amount must not exceed the account's available balance (422)."),
  cardCreditLimit: rule('card-credit-limit', 'body', 'amount', 'exceeds_credit_limit', "A debit must not exceed a credit card's available credit (422)."),
  verificationCode: rule('verification-code-matches', 'body', 'code', 'verification_failed', 'The code must be the one last sent to this channel, unexpired, within 5 attempts (422).'),
  // Issue 13: wallet customers' gaps.
  cashbackBalance: rule('cashback-balance', 'body', 'amount', 'insufficient_cashback', "amount must not exceed the cashback account's available balance (422)."),
  walletInCurrency: rule('wallet-in-currency', 'body', 'currency', 'no_wallet', 'You must have a wallet in `currency` (400).'),
  newPasswordPolicy: rule('password-policy', 'body', 'newPassword', 'custom', 'The new password must not be one character repeated or a common password.'),
  currentPassword: rule('current-password', 'body', 'currentPassword', 'current_password_incorrect', 'currentPassword must be your password now (422).'),
  contactAvailable: rule('contact-available', 'body', 'email', 'custom', 'A new email must not be another account\'s (409).'),
  statementPeriodFromBeforeTo: rule('statement-from-before-to', 'body', 'from', 'custom', '`from` must be before `to`, and is required with `to`.'),
  statementPeriodComplete: rule('statement-to-with-from', 'body', 'to', 'custom', '`to` is required with `from`.'),
  statementLastNOrRange: rule('statement-lastn-or-range', 'body', 'lastN', 'custom', 'Give `lastN` or `from` and `to`, not both.'),
  statementPeriodNotFuture: rule('statement-period-not-future', 'body', 'to', 'in_the_future', '`to` must not be in the future.'),
  prototypeKeys: rule(
    'no-prototype-keys',
    'body',
    'body',
    'forbidden_key',
    'A JSON body must not contain `__proto__` or `constructor.prototype` keys (prototype poisoning), at any depth.',
  ),
} as const;

/** The account's currency must be the request's: `field` names where the mismatch is reported (422). */
export const accountCurrencyRule = (field: string): UnstatedRule =>
  rule('account-currency', 'body', field, 'currency_mismatch', `The account's currency must match (reported on \`${field}\`, 422).`);

/**
 * The customer's per-transaction and daily limits for a kind of money movement (LIMITS):
 * configuration and the day's earlier requests, not the document, decide (422
 * `limit_exceeded` on `amount`, its code naming the limit).
 */
export const amountLimitRules = (kind: 'funding' | 'transfer' | 'payment'): UnstatedRule[] =>
  (['per_transaction', 'daily'] as const).map((window) =>
    rule('amount-within-limits', 'body', 'amount', `${kind}.${window}`, `amount must be within the customer's ${kind} ${window.replace('_', '-')} limit (LIMITS; 422 limit_exceeded).`),
  );

/** No string in `location` may hold U+0000, which PostgreSQL text cannot store (400 naming the field). */
export const nulCharactersRule = (location: 'body' | 'query'): UnstatedRule =>
  rule('no-nul-characters', location, '*', 'nul_character', 'No string may contain a NUL character (U+0000): PostgreSQL cannot store it.');
