import type { ParameterizedContext } from 'koa';
import { RULES, accountCurrencyRule, amountLimitRules } from '../core/unstated-rules';
import type { AppContext, AppState } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { answer, type Submitted } from '../core/money-requests';
import type { PaymentRow } from '../../payments/repository';
import { presentPayment } from './presenters';
import { CardIdParams, CardPaymentBody, PaymentBody, PaymentIdParams, PaymentPageSchema, PaymentSchema, PaymentsQuery } from './schema';
import { cancelPaymentOf, listPaymentsOf, payBillFor, payCardFor, viewPayment, withSteps } from './service';

const paymentPath = (id: string) => `/v1/payments/${id}`;

const SUBMITTED = {
  201: { description: 'Finished within a few seconds: `succeeded`, or `failed` with `failureReason` and the compensation in `steps`.', schema: PaymentSchema },
  200: { description: 'A repeat of a payment made earlier (its Idempotency-Key outlived the replay window).', schema: PaymentSchema },
  202: { description: 'Still processing; poll `Location`.', schema: PaymentSchema },
};

/** Answers a submitted payment as the money routes do, with its steps. */
async function answerPayment(app: AppContext, ctx: ParameterizedContext<AppState>, submitted: Submitted<PaymentRow>): Promise<void> {
  const { steps } = await withSteps(app, submitted.row);
  answer(ctx, submitted, (row) => presentPayment(row, steps), paymentPath(submitted.row.id));
}

/** Bill payments and credit card bill payments, run by the payment saga (docs/payments.md). */
export function paymentRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/payments',
      summary: 'Pay a bill: validate, hold amount + fee, pay the biller, post, credit cashback, notify. The Idempotency-Key names the payment.',
      tags: ['payments'],
      access: 'customer',
      rules: [RULES.billerReferenceFormat, RULES.billerKnowsReference, RULES.billerAmountLimits, accountCurrencyRule('fromAccountId'), RULES.availableBalance, ...amountLimitRules('payment')],
      idempotency: 'required',
      body: PaymentBody,
      responses: {
        ...SUBMITTED,
        400: { description: '`validation_error`, e.g. a customerRef not in the biller\'s format, or a fromAccountId that is not a wallet or savings.', schema: ProblemSchema },
        404: { description: '`biller_not_found` (billerId) or `account_not_found` (fromAccountId).', schema: ProblemSchema },
        422: { description: '`amount_out_of_range`, `currency_mismatch` (fromAccountId), `insufficient_funds` (amount + fee), `limit_exceeded` (amount; `errors[0].code` names the limit: `payment.per_transaction` or `payment.daily`), or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        await answerPayment(app, ctx, await payBillFor(app, currentUserId(ctx.state), ctx.get('idempotency-key'), body));
      },
    }),
    route({
      method: 'post',
      path: '/v1/accounts/:cardId/payments',
      summary: "Pay your credit card's bill from your savings account (or wallet). Two SMS alerts: the card credited, the source debited.",
      tags: ['payments'],
      access: 'customer',
      rules: [accountCurrencyRule('fromAccountId'), RULES.availableBalance, ...amountLimitRules('payment')],
      idempotency: 'required',
      params: CardIdParams,
      body: CardPaymentBody,
      responses: {
        ...SUBMITTED,
        400: { description: '`validation_error`, e.g. cardId not a credit card, or fromAccountId not a savings account or wallet.', schema: ProblemSchema },
        404: { description: '`account_not_found` (cardId or fromAccountId).', schema: ProblemSchema },
        422: { description: '`currency_mismatch`, `insufficient_funds`, `limit_exceeded` (amount; `errors[0].code` names the limit: `payment.per_transaction` or `payment.daily`), or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        await answerPayment(app, ctx, await payCardFor(app, currentUserId(ctx.state), ctx.get('idempotency-key'), params.cardId, body));
      },
    }),
    route({
      method: 'get',
      path: '/v1/payments',
      summary: 'Your payments, newest first, each with its steps.',
      tags: ['payments'],
      access: 'customer',
      query: PaymentsQuery,
      responses: { 200: { description: 'One page of payments.', schema: PaymentPageSchema } },
      handler: async (ctx, { query }) => {
        const page = await listPaymentsOf(app, currentUserId(ctx.state), query);
        ctx.body = { data: page.data.map((p) => presentPayment(p.row, p.steps)), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/payments/:id',
      summary: 'One of your payments with every step: its status, time and reason, compensations included.',
      tags: ['payments'],
      access: 'customer',
      params: PaymentIdParams,
      responses: {
        200: { description: 'The payment.', schema: PaymentSchema },
        404: { description: 'No such payment of yours.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        const { row, steps } = await viewPayment(app, currentUserId(ctx.state), params.id);
        ctx.body = presentPayment(row, steps);
      },
    }),
    route({
      method: 'post',
      path: '/v1/payments/:id/cancel',
      summary: 'Cancel a bill payment whose biller has not been called yet; its hold is voided.',
      tags: ['payments'],
      access: 'customer',
      idempotency: 'optional',
      params: PaymentIdParams,
      responses: {
        200: { description: 'Cancelled (also when it already was).', schema: PaymentSchema },
        202: { description: 'Cancel accepted; the hold is being released. Poll `Location`.', schema: PaymentSchema },
        404: { description: 'No such payment of yours.', schema: ProblemSchema },
        409: { description: '`payment_not_cancellable`: the biller was already called, the payment had ended, or it is a card payment.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        const { status, view } = await cancelPaymentOf(app, currentUserId(ctx.state), params.id);
        ctx.status = status === 'done' ? 200 : 202;
        if (status === 'accepted') ctx.set('Location', paymentPath(view.row.id));
        ctx.body = presentPayment(view.row, view.steps);
      },
    }),
  ];
}
