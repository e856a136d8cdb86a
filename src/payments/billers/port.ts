/**
 * Billers and the port through which finflow reaches them (docs/payments.md). Types and
 * one error class only, so workflow code may `import type` from here.
 */

export const BILLER_CATEGORIES = ['electricity', 'internet', 'cable', 'airtime', 'water'] as const;
export type BillerCategory = (typeof BILLER_CATEGORIES)[number];

/** A row of the `billers` catalogue, with money parsed to bigint at the repository edge. */
export interface Biller {
  /** A slug such as `brightgrid-power`. */
  id: string;
  name: string;
  category: BillerCategory;
  currency: string;
  feeFixedMinor: bigint;
  feeRateBps: number;
  minAmountMinor: bigint;
  maxAmountMinor: bigint;
  /** A regular expression every customer reference must match in full. */
  customerRefPattern: string;
  customerRefExample: string;
  /** Null: the base cashback rate applies. */
  cashbackRateBps: number | null;
  active: boolean;
}

export type CustomerValidation =
  | { valid: true; customerName: string; amountDueMinor: bigint | null }
  /** `invalid_format`: the reference does not match the biller's pattern at all. */
  | { valid: false; reason: 'unknown_customer' | 'invalid_format' };

export interface PayBillerRequest {
  biller: Biller;
  customerRef: string;
  amountMinor: bigint;
  currency: string;
  /** finflow's payment id: the biller's idempotency key, so paying twice with one id pays once. */
  paymentId: string;
}

export type PayBillerOutcome =
  | { status: 'accepted'; billerReference: string }
  | { status: 'declined'; reason: string }
  /** The biller took the call but its answer was lost: ask getPaymentStatus. */
  | { status: 'unknown' };

export type BillerPaymentStatus =
  | { status: 'accepted'; billerReference: string }
  | { status: 'declined'; reason: string }
  | { status: 'pending' }
  | { status: 'not_found' };

/** A timeout or outage: the caller retries with the same payment id. */
export class BillerUnavailableError extends Error {
  constructor(billerId: string, what: string) {
    super(`biller ${billerId} is unavailable (${what})`);
    this.name = 'BillerUnavailableError';
  }
}

export interface BillerPort {
  readonly name: string;
  /** Throws BillerUnavailableError when the biller cannot be reached. */
  validate(biller: Biller, customerRef: string): Promise<CustomerValidation>;
  /** Throws BillerUnavailableError on timeouts and outages. */
  pay(request: PayBillerRequest): Promise<PayBillerOutcome>;
  /** Throws BillerUnavailableError when the biller cannot be reached. */
  getPaymentStatus(query: { biller: Biller; paymentId: string }): Promise<BillerPaymentStatus>;
}

/** Whether `customerRef` matches the biller's pattern in full (the pattern is anchored here). */
export function matchesReferenceFormat(biller: Pick<Biller, 'customerRefPattern'>, customerRef: string): boolean {
  return new RegExp(`^(?:${biller.customerRefPattern})$`).test(customerRef);
}
