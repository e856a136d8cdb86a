/**
 * Per-transaction and daily limits on the money customers move (docs/security.md,
 * "Limits"): per currency, for funding (money in from a card or bank account),
 * transfers (to another customer) and payments (bills and card bills). No I/O here:
 * config parses them, the API and the activities enforce them through `reserve.ts`.
 */

export const LIMIT_KINDS = ['funding', 'transfer', 'payment'] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];
export type LimitWindow = 'per_transaction' | 'daily';

export interface Limit {
  perTransactionMinor: bigint;
  dailyMinor: bigint;
}

/** Limits by currency, then kind. A kind or currency not named is not limited. */
export type Limits = Record<string, Partial<Record<LimitKind, Limit>>>;

/** The limits finflow ships with, in minor units: conservative for a consumer wallet. */
export const DEFAULT_LIMITS =
  'USD.funding.per_transaction=500000,USD.funding.daily=1000000,' +
  'USD.transfer.per_transaction=250000,USD.transfer.daily=500000,' +
  'USD.payment.per_transaction=1000000,USD.payment.daily=2000000';

const ENTRY = /^([A-Z]{3})\.(funding|transfer|payment)\.(per_transaction|daily)=([1-9][0-9]{0,17})$/;

/**
 * Parses `LIMITS`: comma-separated `<CURRENCY>.<kind>.<per_transaction|daily>=<minor units>`.
 * Both windows must be given for each currency and kind named, and the per-transaction
 * limit may not exceed the daily one. Answers the limits, or the problems found.
 */
export function parseLimits(text: string): { limits: Limits } | { problems: string[] } {
  const problems: string[] = [];
  const seen: Record<string, Partial<Record<LimitKind, Partial<Record<LimitWindow, bigint>>>>> = {};
  for (const raw of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = ENTRY.exec(raw);
    if (!match) {
      problems.push(`"${raw}" is not <CURRENCY>.<funding|transfer|payment>.<per_transaction|daily>=<positive minor units>`);
      continue;
    }
    const [, currency, kind, window, amount] = match as unknown as [string, string, LimitKind, LimitWindow, string];
    const byKind = (seen[currency] ??= {});
    const windows = (byKind[kind] ??= {});
    if (windows[window] !== undefined) problems.push(`${currency}.${kind}.${window} is given twice`);
    windows[window] = BigInt(amount);
  }
  const limits: Limits = {};
  for (const [currency, byKind] of Object.entries(seen)) {
    for (const [kind, windows] of Object.entries(byKind) as Array<[LimitKind, Partial<Record<LimitWindow, bigint>>]>) {
      const { per_transaction: perTransactionMinor, daily: dailyMinor } = windows;
      if (perTransactionMinor === undefined || dailyMinor === undefined) {
        problems.push(`${currency}.${kind} needs both per_transaction and daily`);
        continue;
      }
      if (perTransactionMinor > dailyMinor) problems.push(`${currency}.${kind}.per_transaction exceeds ${currency}.${kind}.daily`);
      (limits[currency] ??= {})[kind] = { perTransactionMinor, dailyMinor };
    }
  }
  return problems.length > 0 ? { problems } : { limits };
}

export function limitFor(limits: Limits | undefined, currency: string, kind: LimitKind): Limit | undefined {
  return limits?.[currency]?.[kind];
}

/** A request over a limit: which kind, which window, and the limit itself. */
export class LimitExceededError extends Error {
  constructor(
    readonly kind: LimitKind,
    readonly window: LimitWindow,
    readonly currency: string,
    readonly limitMinor: bigint,
  ) {
    super(`${kind} ${window === 'daily' ? 'daily' : 'per-transaction'} limit of ${limitMinor} ${currency} minor units exceeded`);
    this.name = 'LimitExceededError';
  }

  /** `payment.daily`, `funding.per_transaction`: how the API and the ledger steps name it. */
  get limit(): string {
    return `${this.kind}.${this.window}`;
  }
}
