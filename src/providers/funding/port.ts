/**
 * The funding processor port: charges a customer's card or bank account so money can
 * enter the wallet. `chargeId` is finflow's idempotency key for the charge (derived
 * from the funding workflow id): charging twice with one id charges once.
 */
export interface FundingSource {
  type: 'card' | 'bank_account';
  token: string;
}

export interface ChargeRequest {
  chargeId: string;
  amountMinor: bigint;
  currency: string;
  source: FundingSource;
}

export type ChargeOutcome =
  | { status: 'succeeded'; processorChargeId: string }
  | { status: 'declined'; reason: string }
  /** The processor accepted the call but its answer was lost: ask getCharge later. */
  | { status: 'unknown' };

export type ChargeStatus =
  | { status: 'succeeded'; processorChargeId: string }
  | { status: 'declined'; reason: string }
  | { status: 'pending' }
  | { status: 'not_found' };

export interface FundingProcessor {
  readonly name: string;
  /** Throws on transport failures (timeouts, 5xx): the caller retries with the same chargeId. */
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  getCharge(chargeId: string): Promise<ChargeStatus>;
}
