import { createHash } from 'node:crypto';
import type { Db } from '../../db/knex';
import {
  BillerUnavailableError,
  matchesReferenceFormat,
  type Biller,
  type BillerPaymentStatus,
  type BillerPort,
  type CustomerValidation,
  type PayBillerOutcome,
  type PayBillerRequest,
} from './port';

/**
 * A biller that runs here, scripted by the last two digits of the customer reference
 * (docs/payments.md), so tests and demos choose an outcome by choosing a reference:
 *
 * - `00`: unknown customer (validation fails; a payment is declined `unknown_customer`).
 * - `01`: a valid customer whose payment is declined (`account_suspended`).
 * - `02`: the first payment call per payment id times out after the biller recorded the
 *   payment; the retry answers the recorded acceptance.
 * - `03`: the first payment call answers `unknown`; getPaymentStatus says accepted.
 * - `04`: every payment call (and status query) times out: permanently unavailable.
 * - anything else: accepted.
 *
 * Payments live in PostgreSQL (`sandbox_biller_payments`, keyed by payment id), so the
 * sandbox behaves the same across worker restarts, as a real biller would.
 */
export const SANDBOX_SCRIPTS = {
  unknownCustomer: '00',
  declined: '01',
  timeoutThenAccepted: '02',
  unknownThenAccepted: '03',
  unavailable: '04',
} as const;

const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis', 'Radia', 'Niklaus'];
const LAST_NAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Castillo', 'Novak', 'Haddad', 'Mensah', 'Kowalski', 'Ibarra', 'Singh', 'Duarte'];
/** Amounts due spread over this many minor units above the biller's minimum. */
const AMOUNT_DUE_SPREAD_MINOR = 30_000n;

interface PaymentRow {
  payment_id: string;
  biller_id: string;
  customer_ref: string;
  amount_minor: string;
  currency: string;
  status: 'accepted' | 'declined' | 'unavailable';
  decline_reason: string | null;
  biller_reference: string | null;
  calls: number;
}

const scriptOf = (customerRef: string) => customerRef.slice(-2);

function digest(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

/** The same reference always names the same customer and owes the same amount. */
function customerOf(biller: Biller, customerRef: string): { customerName: string; amountDueMinor: bigint | null } {
  const hash = digest(biller.id, customerRef);
  const customerName = `${FIRST_NAMES[hash[0]! % FIRST_NAMES.length]} ${LAST_NAMES[hash[1]! % LAST_NAMES.length]}`;
  // Airtime is bought, not billed: nothing is due.
  if (biller.category === 'airtime') return { customerName, amountDueMinor: null };
  const range = biller.maxAmountMinor - biller.minAmountMinor;
  const spread = range < AMOUNT_DUE_SPREAD_MINOR ? range : AMOUNT_DUE_SPREAD_MINOR;
  return { customerName, amountDueMinor: biller.minAmountMinor + (BigInt(hash.readUInt32BE(2)) % (spread + 1n)) };
}

/** What the biller decides for a new payment, before any scripted transport trouble. */
function decide(request: PayBillerRequest): Pick<PaymentRow, 'status' | 'decline_reason'> {
  const { biller, customerRef, amountMinor, currency } = request;
  const script = scriptOf(customerRef);
  if (script === SANDBOX_SCRIPTS.unavailable) return { status: 'unavailable', decline_reason: null };
  const declined = (reason: string) => ({ status: 'declined' as const, decline_reason: reason });
  if (!matchesReferenceFormat(biller, customerRef) || script === SANDBOX_SCRIPTS.unknownCustomer) return declined('unknown_customer');
  if (currency !== biller.currency) return declined('currency_mismatch');
  if (amountMinor < biller.minAmountMinor || amountMinor > biller.maxAmountMinor) return declined('amount_out_of_range');
  if (script === SANDBOX_SCRIPTS.declined) return declined('account_suspended');
  return { status: 'accepted', decline_reason: null };
}

function statusOf(row: PaymentRow): Extract<BillerPaymentStatus, { status: 'accepted' | 'declined' }> {
  if (row.status === 'accepted') return { status: 'accepted', billerReference: row.biller_reference ?? row.payment_id };
  return { status: 'declined', reason: row.decline_reason ?? 'declined' };
}

export function createSandboxBillerPort(db: Db): BillerPort {
  return {
    name: 'sandbox',

    async validate(biller: Biller, customerRef: string): Promise<CustomerValidation> {
      if (!matchesReferenceFormat(biller, customerRef)) return { valid: false, reason: 'invalid_format' };
      if (scriptOf(customerRef) === SANDBOX_SCRIPTS.unknownCustomer) return { valid: false, reason: 'unknown_customer' };
      return { valid: true, ...customerOf(biller, customerRef) };
    },

    async pay(request: PayBillerRequest): Promise<PayBillerOutcome> {
      const decision = decide(request);
      // Recorded once per payment id; every later call sees the same row.
      await db('sandbox_biller_payments')
        .insert({
          payment_id: request.paymentId,
          biller_id: request.biller.id,
          customer_ref: request.customerRef,
          amount_minor: request.amountMinor.toString(),
          currency: request.currency,
          ...decision,
          biller_reference:
            decision.status === 'accepted'
              ? `${request.biller.id.split('-')[0]!.toUpperCase()}-${digest(request.paymentId).toString('hex').slice(0, 12).toUpperCase()}`
              : null,
          calls: 0,
        })
        .onConflict('payment_id')
        .ignore();
      const [row] = (await db('sandbox_biller_payments')
        .where({ payment_id: request.paymentId })
        .increment('calls', 1)
        .returning('*')) as PaymentRow[];
      if (!row) throw new Error(`sandbox biller payment ${request.paymentId} vanished`);

      // A reused payment id with other details is refused, as a real biller refuses a reused idempotency key.
      const same =
        row.biller_id === request.biller.id &&
        row.customer_ref === request.customerRef &&
        BigInt(row.amount_minor) === request.amountMinor &&
        row.currency === request.currency;
      if (!same) return { status: 'declined', reason: 'payment_id_reused' };

      if (row.status === 'unavailable') throw new BillerUnavailableError(row.biller_id, 'timed out');
      const script = scriptOf(row.customer_ref);
      if (script === SANDBOX_SCRIPTS.timeoutThenAccepted && row.calls === 1) {
        throw new BillerUnavailableError(row.biller_id, 'timed out after recording the payment');
      }
      if (script === SANDBOX_SCRIPTS.unknownThenAccepted && row.calls === 1) return { status: 'unknown' };
      return statusOf(row);
    },

    async getPaymentStatus({ biller, paymentId }: { biller: Biller; paymentId: string }): Promise<BillerPaymentStatus> {
      const row = (await db('sandbox_biller_payments').where({ payment_id: paymentId, biller_id: biller.id }).first()) as PaymentRow | undefined;
      if (!row) return { status: 'not_found' };
      if (row.status === 'unavailable') throw new BillerUnavailableError(row.biller_id, 'status query timed out');
      return statusOf(row);
    },
  };
}
