import type { NewPayment } from '../../payments/repository';
import type { PaymentStep } from '../../payments/steps';
import type { Saga } from '../shared/saga';
import type { PayBillInput, PaymentResolution } from './contract';
import type { PaymentSteps } from './payment-steps';

/** What one bill payment's steps share while the saga runs. */
export interface BillRun {
  input: PayBillInput;
  workflowId: string;
  /** The payment's row, as the workflow would write it. */
  payment: NewPayment;
  steps: PaymentSteps;
  saga: Saga<PaymentStep>;
  /** Open while the payment waits in `needs_review`; the operator's resolution once given. */
  review: { open: boolean; resolution?: PaymentResolution };
  /** Decided once, when the biller has accepted: whether this run goes only forward from there. */
  forwardOnly: boolean;
  /** Set when cashback paid part of the amount: the part that earns cashback (docs/payments.md). */
  earningBaseMinor?: string;
}

/** What validation learnt: the fee to hold and the words the ledger and the alerts use. */
export interface BillTerms {
  feeMinor: string;
  description: string;
}
