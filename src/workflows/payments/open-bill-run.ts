import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PaymentStep } from '../../payments/steps';
import { Saga } from '../shared/saga';
import type { BillRun } from './bill-run';
import { acceptBillUpdates, type CancelWindow } from './bill-updates';
import { paymentOutcomeUpdate, type PayBillInput, type PayBillResult } from './contract';
import { billPayment } from './pay-bill';
import { PaymentSteps } from './payment-steps';

/**
 * What payBillV2 and payBillV3 set up before their first step: the run's shared state,
 * the customer's cancel window, and the `cancel`, `resolve` and `outcome` updates, each
 * answered with the payment's result once `finished` holds it.
 */
export function openBillRun(input: PayBillInput): { run: BillRun; cancel: CancelWindow; finished: { result?: PayBillResult } } {
  const { workflowId } = workflowInfo();
  const steps = new PaymentSteps(input.paymentId, 'bill');
  const run: BillRun = { input, workflowId, payment: billPayment(input, workflowId), steps, saga: new Saga<PaymentStep>(), review: { open: false }, forwardOnly: true };
  const cancel: CancelWindow = { requested: false, allowed: true };
  const finished: { result?: PayBillResult } = {};
  acceptBillUpdates(run, cancel, finished);
  setHandler(paymentOutcomeUpdate, async () => {
    await condition(() => finished.result !== undefined);
    return finished.result as PayBillResult;
  });
  return { run, cancel, finished };
}
