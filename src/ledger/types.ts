/**
 * The ledger's public interface. Everything that moves money in finflow goes through a
 * `Ledger` (see docs/ledger.md for the model). This file holds types only, so workflow
 * code may `import type` from it; the values live in service.ts, errors.ts and ids.ts.
 *
 * Money is `bigint` minor units (`amountMinor: 1050n` is 10.50 in a two-decimal
 * currency). Across JSON and Temporal boundaries, send it as a decimal string.
 */

// ---------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------

export interface Ledger {
  /**
   * Applies transfers in order, in one database round trip, and answers one result per
   * transfer, in the same order. With `linked: true` they succeed or fail together: on
   * the first failure nothing is written, the failing transfer carries its own code and
   * every other one `linked_event_failed`. At most `MAX_TRANSFERS_PER_CALL` per call.
   */
  createTransfers(transfers: readonly TransferInput[], options?: { linked?: boolean }): Promise<TransferResult[]>;
  /** One transfer; a failure throws `LedgerError` whose `code` says why. */
  createTransfer(transfer: TransferInput): Promise<AppliedTransfer>;

  /**
   * Opens a customer account. With `id` (derive it with `accountIdFrom`), opening is
   * idempotent: the same id with the same fields returns the account; with different
   * fields it throws `LedgerError('exists_with_different_fields')`.
   */
  openAccount(input: OpenAccountInput): Promise<Account>;
  /** The system account for (role, currency), created on first use. */
  ensureSystemAccount(role: SystemRole, currency: string): Promise<Account>;
  /**
   * The id of the system account for (role, currency), created on first use. Cheap: it
   * never sums the account's transfers, so hot paths call this, not ensureSystemAccount.
   */
  systemAccountId(role: SystemRole, currency: string): Promise<string>;
  getAccount(id: string): Promise<Account | null>;
  /** A customer's accounts, oldest first. */
  listAccounts(ownerUserId: string): Promise<Account[]>;

  getTransfer(id: string): Promise<Transfer | null>;
  /**
   * Transfers that debit or credit the account, newest first by (createdAt, id). The
   * cursor is opaque; an unknown one throws `LedgerError('invalid_cursor')`.
   */
  listTransfers(accountId: string, options: ListTransfersOptions): Promise<TransferPage>;
  /**
   * The account's posted balance (credits − debits) right after each of the given
   * transfers, in (createdAt, id) order. Only transfers that move the posted balance
   * (`posted`, `post_pending`) have one; the others are absent from the map.
   */
  postedBalancesAfter(accountId: string, transferIds: readonly string[]): Promise<Map<string, bigint>>;
  /**
   * What a statement of the account shows: its posted lines in `range`, oldest first,
   * each with the posted balance after it, and the opening and closing balances.
   */
  statementSlice(accountId: string, range: StatementRange): Promise<StatementSlice>;

  /** Per currency: Σ debits and Σ credits over all accounts, posted and pending. */
  trialBalance(): Promise<TrialBalanceRow[]>;
  /** Totals and balances of a system account, summed from its transfers (off the hot path). */
  systemAccountBalance(id: string): Promise<{ totals: AccountTotals; balances: AccountBalances }>;

  /**
   * Voids, as `expire_pending` transfers, every pending transfer whose `timeoutAt` is at
   * or before `now` and that is still unresolved. Meant for a Temporal Schedule; safe to
   * run concurrently and repeatedly (expiry ids are derived from the pending id).
   */
  expirePendingTransfers(now: Date): Promise<{ expired: number }>;
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

export type CustomerAccountType = 'wallet' | 'savings' | 'credit_card' | 'cashback';
export type AccountType = CustomerAccountType | 'system';

/** One system account exists per (role, currency). */
export type SystemRole = 'funding_clearing' | 'biller_settlement' | 'fee_revenue' | 'cashback_expense';

/**
 * Follows from the account type. Customer money may not go below zero
 * (`debits_within_credits`), a credit card not beyond its limit (`debits_within_limit`),
 * system accounts are unconstrained (`none`).
 */
export type BalanceRule = 'debits_within_credits' | 'debits_within_limit' | 'none';

export interface OpenAccountInput {
  /** Client-chosen uuid for idempotent opening; a random one when omitted. */
  id?: string;
  ownerUserId: string;
  type: CustomerAccountType;
  /** ISO 4217, upper case. */
  currency: string;
  /** Only for `credit_card` (required there, ≥ 0). */
  creditLimitMinor?: bigint;
}

export interface AccountTotals {
  debitsPostedMinor: bigint;
  debitsPendingMinor: bigint;
  creditsPostedMinor: bigint;
  creditsPendingMinor: bigint;
}

/** Seen from the customer: money in is a credit, money out a debit. */
export interface AccountBalances {
  /** credits posted − debits posted. */
  postedMinor: bigint;
  /** credits pending − debits pending (negative while funds are held). */
  pendingMinor: bigint;
  /** What may be spent now: posted − debits pending (+ credit limit for a card). */
  availableMinor: bigint;
}

export interface Account {
  id: string;
  /** Null for system accounts, and for customer accounts after the owner was erased. */
  ownerUserId: string | null;
  systemRole: SystemRole | null;
  type: AccountType;
  currency: string;
  rule: BalanceRule;
  creditLimitMinor: bigint;
  totals: AccountTotals;
  balances: AccountBalances;
  createdAt: Date;
}

// ---------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------

/**
 * Why money moved. The database accepts any snake_case code; these are the ones finflow
 * uses, so callers get completion and typos fail to compile.
 */
export type TransferCode =
  | 'wallet_funding'
  | 'p2p_transfer'
  | 'bank_deposit'
  | 'bank_debit'
  | 'salary'
  | 'card_purchase'
  | 'card_payment'
  | 'bill_payment'
  | 'fee'
  | 'cashback'
  | 'referral_bonus'
  /** Cashback moved by its owner to their wallet (POST /v1/cashback/redeem). */
  | 'cashback_redemption'
  | 'reversal'
  | 'adjustment';

/**
 * `posted` moves money at once; `pending` holds it until a `post_pending` (all or part
 * of it), a `void_pending`, or, after its timeout, an `expire_pending` resolves it.
 */
export type TransferKind = 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending';
export type PendingResolutionKind = 'post_pending' | 'void_pending' | 'expire_pending';

export type Metadata = Record<string, unknown>;

interface TransferInputBase {
  /** Client-chosen uuid: the idempotency key. Derive it with `transferIdFrom`. */
  id: string;
  /** Plain JSON; part of the idempotency comparison. Empty when omitted. */
  metadata?: Metadata;
}

/** Moves `amountMinor` from the debit account to the credit account (both in `currency`). */
export interface PostedTransferInput extends TransferInputBase {
  kind?: 'posted';
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  currency: string;
  code: TransferCode;
}

/** Holds `amountMinor`: the debit account's available balance drops now. */
export interface PendingTransferInput extends TransferInputBase {
  kind: 'pending';
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  currency: string;
  code: TransferCode;
  /** After this instant the hold can no longer be posted or voided, only expired. */
  timeoutAt?: Date;
}

/**
 * Resolves a pending transfer; accounts, currency and code are the pending's. A
 * `post_pending` posts `amountMinor` (≤ the held amount; the whole hold when omitted) and
 * releases the rest.
 */
export interface PostPendingInput extends TransferInputBase {
  kind: 'post_pending';
  pendingId: string;
  amountMinor?: bigint;
}

export interface VoidPendingInput extends TransferInputBase {
  kind: 'void_pending' | 'expire_pending';
  pendingId: string;
}

export type TransferInput = PostedTransferInput | PendingTransferInput | PostPendingInput | VoidPendingInput;

/** A stored transfer. Resolutions carry the pending's accounts, currency and code. */
export interface Transfer {
  id: string;
  kind: TransferKind;
  debitAccountId: string;
  creditAccountId: string;
  /** For `post_pending`, the amount posted; for a void or expiry, the amount released. */
  amountMinor: bigint;
  currency: string;
  code: string;
  pendingId: string | null;
  timeoutAt: Date | null;
  metadata: Metadata;
  createdAt: Date;
}

/** Why a transfer was not applied. */
export type TransferErrorCode =
  | 'exists_with_different_fields'
  | 'amount_must_be_positive'
  /** The amount exceeds 64 bits, or would overflow one of an account's running totals. */
  | 'amount_too_large'
  | 'accounts_must_differ'
  | 'account_not_found'
  | 'currency_mismatch'
  | 'pending_not_found'
  | 'pending_already_resolved'
  /** A post or void after the pending's timeout. */
  | 'pending_expired'
  /** An `expire_pending` before the pending's timeout (or of a pending without one). */
  | 'pending_not_expired'
  | 'amount_exceeds_pending'
  | 'insufficient_funds'
  | 'exceeds_credit_limit'
  /** Another transfer of a linked batch failed, so this one was not applied. */
  | 'linked_event_failed';

export type LedgerErrorCode = TransferErrorCode | 'invalid_cursor';

export interface AppliedTransfer {
  /** `exists`: this id was applied before with the same fields; nothing changed now. */
  status: 'created' | 'exists';
  transfer: Transfer;
}

export type TransferResult = ({ id: string } & AppliedTransfer) | { id: string; status: TransferErrorCode };

export interface ListTransfersOptions {
  /** 1..1000. */
  limit: number;
  cursor?: string | null;
  /** Inclusive lower bound on createdAt. */
  from?: Date;
  /** Exclusive upper bound on createdAt. */
  to?: Date;
  /**
   * Also the posted balance after each transfer of the page (see `postedBalancesAfter`),
   * read in the same statement. A system account keeps no totals: its page has none.
   */
  withBalances?: boolean;
}

export interface TransferPage {
  data: Transfer[];
  nextCursor: string | null;
  /** With `withBalances`: the posted balance after each transfer of the page that moved it. */
  balancesAfter?: Map<string, bigint>;
}

export interface TrialBalanceSide {
  debitsMinor: bigint;
  creditsMinor: bigint;
  /** debits − credits: always 0 in a sound ledger. */
  differenceMinor: bigint;
}

export interface TrialBalanceRow {
  currency: string;
  posted: TrialBalanceSide;
  pending: TrialBalanceSide;
}

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

/** The last `lastN` posted lines before `asOf`, or every posted line in [from, to). */
export type StatementRange = { lastN: number; asOf: Date } | { from: Date; to: Date };

export interface StatementLedgerLine {
  transfer: Transfer;
  /** From the account's side: money in is a credit. */
  direction: 'credit' | 'debit';
  balanceAfterMinor: bigint;
}

export interface StatementSlice {
  accountId: string;
  periodFrom: Date;
  periodTo: Date;
  openingBalanceMinor: bigint;
  closingBalanceMinor: bigint;
  lines: StatementLedgerLine[];
}
