import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Names shared by the API, the worker and workflow code. Workflow-safe: no Node
 * built-ins, no I/O. Workflow ids are built from business ids so a duplicate request
 * can never start a second workflow, and an operator can find one by its business id.
 */

export const TASK_QUEUES = {
  /** Onboarding, housekeeping and everything that is not a product line of its own. */
  core: 'finflow-core',
} as const;

export const workflowIds = {
  onboarding: (customerId: string) => `onboarding:${customerId}`,
  idempotencyKeyExpiry: () => 'housekeeping:idempotency-key-expiry',
  pendingHoldExpiry: () => 'housekeeping:pending-hold-expiry',
  paymentRepairs: () => 'housekeeping:payment-repairs',
  requestStarts: () => 'housekeeping:request-starts',
  /** A customer's `Idempotency-Key` on POST /v1/wallet/fund is the funding's business id. */
  walletFunding: (customerId: string, idempotencyKey: string) => `funding:${customerId}:${idempotencyKey}`,
  /** A customer's `Idempotency-Key` on POST /v1/transfers. */
  customerTransfer: (customerId: string, idempotencyKey: string) => `transfer:${customerId}:${idempotencyKey}`,
  /** The bank side's `Idempotency-Key` on POST /internal/v1/accounts/{id}/postings (one service, one scope). */
  bankPosting: (idempotencyKey: string) => `posting:${idempotencyKey}`,
  /**
   * A customer's `Idempotency-Key` on POST /v1/payments or POST /v1/accounts/{cardId}/payments:
   * one payment per key and customer, whichever kind. Recurring runs use their own scheme.
   */
  payment: (customerId: string, idempotencyKey: string) => `payment:${customerId}:${idempotencyKey}`,
  /** A recurring payment's Schedule starts its runs under this id (the Schedule appends the scheduled time). */
  recurringPaymentRun: (recurringPaymentId: string) => `recurring-payment-run:${recurringPaymentId}`,
  /**
   * The payment of one period of a recurring payment: one id per period, so a period is
   * paid once however often it fires; each dunning retry is `…:retry-<n>`.
   */
  recurringPayment: (recurringPaymentId: string, period: string, retry = 0) =>
    `payment:recurring:${recurringPaymentId}:${period}${retry > 0 ? `:retry-${retry}` : ''}`,
  /**
   * Attempt `attempt` (2, 3, …) of a failed payment, retried by its customer (POST
   * /v1/payments/{id}/retry): named by the first attempt and its position, so two
   * retries racing for the same position start one payment.
   */
  paymentRetry: (customerId: string, firstAttemptId: string, attempt: number) => `payment:${customerId}:retry:${firstAttemptId}:${attempt}`,
  // Statements (docs/statements.md).
  /** A customer's `Idempotency-Key` on POST /v1/accounts/{id}/statements. */
  statement: (customerId: string, idempotencyKey: string) => `statement:${customerId}:${idempotencyKey}`,
  /** One account's statement of one month: the same id however often the month is run. */
  monthlyStatement: (accountId: string, month: string) => `statement:monthly:${month}:${accountId}`,
  /** The statement an inbound `STMT n` asked for. */
  smsStatement: (inboundId: string) => `statement:sms:${inboundId}`,
  /** The monthly Schedule starts its runs under this id (the Schedule appends the scheduled time). */
  monthlyStatements: () => 'statements:monthly',
  /** A backfill or rerun of one month, started by hand. */
  monthlyStatementsOf: (month: string) => `statements:monthly:${month}`,
  /** The daily Schedule starts its statement-cycle runs under this id (the Schedule appends the scheduled time). */
  statementCycles: () => 'statements:daily',
  /** A rerun of the statements closing on one day (`YYYY-MM-DD`), started by hand. */
  statementCyclesOf: (date: string) => `statements:daily:${date}`,
  /** The handling of one inbound SMS (its `sms_inbound` row id). */
  smsBanking: (inboundId: string) => `sms-banking:${inboundId}`,
  // cards
  /** A partner file's ingestion, keyed by the SHA-256 of its bytes: the same file twice is one ingestion. */
  cardFile: (fileId: string) => `card-file:${fileId}`,
  cardFilePickup: () => 'cards:card-file-pickup',
  // campaigns
  /** A campaign's rollout: one per campaign, so a second launch cannot start another. */
  campaignRollout: (campaignId: string) => `campaign:${campaignId}`,
  contactImport: (importId: string) => `contact-import:${importId}`,
  // Invoices (docs/invoices.md).
  /** One id per mailbox (a customer has one): two ingestions of a mailbox never overlap. */
  invoiceIngestion: (customerId: string) => `invoice-ingestion:${customerId}`,
  /** The weekday Schedule starts this small workflow, which starts invoiceIngestion unless one runs. */
  scheduledInvoiceIngestion: (customerId: string) => `invoice-ingestion-schedule:${customerId}`,
  /** One re-parse of unparsed invoices at a time, whoever asks. */
  invoiceReparse: () => 'invoice-reparse',
  /** Paying an invoice is a payment whose Idempotency-Key is the invoice: once per invoice. */
  invoicePaymentKey: (invoiceId: string) => `invoice:${invoiceId}`,
  /** Erasing a customer: one id, so a second DELETE /v1/me joins the first. */
  erasure: (customerId: string) => `erasure:${customerId}`,
} as const;

/**
 * Dedupe keys of side effects that are not tied to one workflow: a transaction alert is
 * owed once per transfer and account, whichever workflow (or retry of it) sends it.
 */
export const dedupeKeys = {
  transactionAlert: (transferId: string, accountId: string) => `alert:${transferId}:${accountId}`,
  /** A recurring payment's notice about one period: `retry-1`, `retry-2` (dunning) or `paused`. */
  recurringPaymentNotice: (recurringPaymentId: string, period: string, notice: string) => `recurring:${recurringPaymentId}:${period}:${notice}`,
  /** The one reply to one inbound SMS. */
  smsReply: (inboundId: string) => `sms-reply:${inboundId}`,
  /** One email and one SMS per invoice, whichever ingestion or re-parse found it. */
  invoiceNotice: (invoiceId: string, channel: 'email' | 'sms') => `invoice:${invoiceId}:${channel}`,
} as const;

/** Signals the API sends and workflows handle. */
export const signalNames = {
  /** To `onboarding:<customerId>`: the customer proved control of their phone; the welcome SMS may go. */
  phoneVerified: 'phoneVerified',
} as const;

export const scheduleIds = {
  idempotencyKeyExpiry: 'finflow-idempotency-key-expiry',
  pendingHoldExpiry: 'finflow-pending-hold-expiry',
  paymentRepairs: 'finflow-payment-repairs',
  /** Every 5 minutes: starts the workflow of a money request whose API never did. */
  requestStarts: 'finflow-request-starts',
  recurringPayment: (recurringPaymentId: string) => `recurring-payment:${recurringPaymentId}`,
  /** Replaced by dailyStatements; deleted at start where it still exists. */
  monthlyStatements: 'finflow-monthly-statements',
  /** 02:00 UTC every day: the statements whose cycle closed at midnight. */
  dailyStatements: 'finflow-daily-statements',
  // cards
  cardFilePickup: 'finflow-card-file-pickup',
  /** Weekdays at 08:30 in the customer's timezone: fetch new invoices. */
  invoiceIngestion: (customerId: string) => `invoice-ingestion:${customerId}`,
} as const;

export const searchAttributes = {
  CustomerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  AccountId: defineSearchAttributeKey('AccountId', SearchAttributeType.KEYWORD),
  PaymentId: defineSearchAttributeKey('PaymentId', SearchAttributeType.KEYWORD),
  BusinessStatus: defineSearchAttributeKey('BusinessStatus', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_KEYS = Object.values(searchAttributes);

/** Search attributes Temporal itself sets (never registered by finflow). */
export const systemSearchAttributes = {
  /** Set on a workflow a Schedule started: the time it was scheduled for (before jitter). */
  TemporalScheduledStartTime: defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME),
} as const;
