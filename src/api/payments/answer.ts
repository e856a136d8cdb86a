import type { ParameterizedContext } from 'koa';
import type { PaymentRow } from '../../payments/repository';
import type { AppContext, AppState } from '../core/context';
import { answer, type Submitted } from '../core/money-requests';
import { presentPayment } from './presenters';
import { PaymentSchema } from './schema';
import { withSteps } from './service';

/** How a new payment is answered, by POST /v1/payments and POST /v1/accounts/{cardId}/payments alike. */

export const paymentPath = (id: string) => `/v1/payments/${id}`;

/** The answers of a submitted payment, whichever kind. */
export const SUBMITTED = {
  201: { description: 'Finished within a few seconds: `succeeded`, or `failed` with `failureReason` and the compensation in `steps`.', schema: PaymentSchema },
  200: { description: 'A repeat of a payment made earlier (its Idempotency-Key outlived the replay window).', schema: PaymentSchema },
  202: { description: 'Still processing; poll `Location`.', schema: PaymentSchema },
};

/** Answers a submitted payment as the money routes do, with its steps. */
export async function answerPayment(app: AppContext, ctx: ParameterizedContext<AppState>, submitted: Submitted<PaymentRow>): Promise<void> {
  const { steps, attempts } = await withSteps(app, submitted.row);
  answer(ctx, submitted, (row) => presentPayment({ row, steps, attempts }), paymentPath(submitted.row.id));
}
