import { CancellationScope, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { maskAccount } from '../../money/money';
import type { NewPayment } from '../../payments/repository';
import type { PaymentStep } from '../../payments/steps';
import { profiles } from '../shared/activity-profiles';
import { alertHolders } from '../banking/alerts';
import { Saga } from '../shared/saga';
import { conclude } from './conclude';
import type { PayCardInput, PayCardResult } from './contract';
import { PaymentSteps, holdExpiry, operatorCancelled, reverse, runSteps, tagPayment } from './payment-steps';
import { paymentProfiles } from './profiles';

/**
 * A credit card bill paid from the customer's savings account (or wallet), as the same
 * saga as a bill (docs/payments.md): validate → hold (pending source → card) → post →
 * notify. The two alerts are the card credited and the source debited, one each. With
 * no third party to call, there is no cancel window: the hold is posted at once.
 */

const { holdPaymentFunds, postPaymentHolds } = proxyActivities<Activities>(profiles.database);
const { voidPaymentHolds } = proxyActivities<Activities>(paymentProfiles.compensation);
const { openPayment, validateCardPayment } = proxyLocalActivities<Activities>(paymentProfiles.record);

export async function payCard(input: PayCardInput): Promise<PayCardResult> {
  const { workflowId } = workflowInfo();
  const { paymentId, userId, cardAccountId, fromAccountId, amountMinor, currency } = input;
  const steps = new PaymentSteps(paymentId, 'card');
  const saga = new Saga<PaymentStep>();
  const description = `from ${maskAccount(fromAccountId)} to card ${maskAccount(cardAccountId)}`;

  tagPayment(input);
  steps.note('validate', 'running');
  const payment: NewPayment = {
    id: paymentId,
    userId,
    kind: 'card',
    billerId: null,
    customerRef: null,
    fromAccountId,
    toAccountId: cardAccountId,
    amountMinor,
    currency,
    workflowId,
    recurringPaymentId: null,
    period: null,
  };
  // Not cancellable: the row must exist for the payment to be concluded, whatever happens.
  await CancellationScope.nonCancellable(() => openPayment(payment));

  const outcome = await runSteps(async () => {
    await validateCardPayment({ paymentId, userId, cardAccountId, fromAccountId, currency });
    steps.note('validate', 'succeeded');

    steps.begin('hold');
    const legs = [{ name: 'amount', to: { accountId: cardAccountId }, amountMinor, code: 'card_payment' as const }];
    const { holdIds } = await CancellationScope.nonCancellable(() =>
      holdPaymentFunds({ paymentId, key: `${workflowId}:hold`, fromAccountId, currency, legs, expiresAt: holdExpiry(), description }),
    );
    steps.note('hold', 'succeeded');
    saga.add('hold', () => voidPaymentHolds({ paymentId, key: `${workflowId}:void`, holdIds, description }));
    if (CancellationScope.current().consideredCancelled) return operatorCancelled;

    // Once posted, the payment runs to its end whatever cancellation arrives.
    return CancellationScope.nonCancellable(async () => {
      steps.begin('post');
      const { transferIds } = await postPaymentHolds({ paymentId, key: `${workflowId}:post`, holdIds, description });
      steps.note('post', 'succeeded');
      saga.supersede('hold');
      saga.add('post', () => reverse(paymentId, 'post', `${workflowId}:reverse:post`, transferIds));

      steps.begin('notify');
      await alertHolders(transferIds[0] as string, [cardAccountId, fromAccountId]);
      return { status: 'succeeded' } as const;
    });
  }, steps);

  return conclude({ payment, steps, saga, outcome });
}
