import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { idempotencyKeyOf } from '../core/middleware/idempotency';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { RULES, accountCurrencyRule, amountLimitRules } from '../core/unstated-rules';
import { SUBMITTED, answerPayment, paymentPath } from './answer';
import { presentPayment } from './presenters';
import { quoteFor } from './quote';
import { PaymentBody, PaymentIdParams, PaymentPageSchema, PaymentSchema, PaymentsQuery, QuoteBody, QuoteSchema } from './schema';
import { retryPaymentOf } from './retry';
import { cancelPaymentOf, listPaymentsOf, payBillFor, viewPayment } from './service';

/**
 * Bill payments: quoted, made, listed, viewed and cancelled (docs/payments.md). A credit
 * card's bill is paid at POST /v1/accounts/{cardId}/payments (accounts/payments/) and
 * listed here with the rest.
 */
export function paymentRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/payments/quote',
      summary: 'What paying a bill would cost (amount, fee, total) and earn (cashback), with the rules that applied.',
      tags: ['payments'],
      access: 'customer',
      rules: [RULES.billerReferenceFormat, RULES.billerKnowsReference, RULES.billerAmountLimits, accountCurrencyRule('fromAccountId')],
      body: QuoteBody,
      responses: {
        200: { description: 'The quote. Nothing is reserved: the cashback credited later may be lower if the monthly cap is reached first.', schema: QuoteSchema },
        404: { description: 'No such biller (`biller_not_found`) or account of yours (`account_not_found`).', schema: ProblemSchema },
        422: {
          description: 'The amount is outside the biller\'s limits (`amount_out_of_range`), the biller does not know the reference, or the account is in another currency.',
          schema: ProblemSchema,
        },
        503: { description: 'The biller cannot be reached; retry later.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        ctx.body = await quoteFor(app, currentUserId(ctx.state), body);
      },
    }),
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
        await answerPayment(app, ctx, await payBillFor(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), body));
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
        ctx.body = { data: page.data.map(presentPayment), nextCursor: page.nextCursor };
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
        ctx.body = presentPayment(await viewPayment(app, currentUserId(ctx.state), params.id));
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
        ctx.body = presentPayment(view);
      },
    }),
    route({
      method: 'post',
      path: '/v1/payments/:id/retry',
      summary: 'Retry a failed bill payment: a new attempt of the same bill from the same account, linked to the first (`attempts`).',
      tags: ['payments'],
      access: 'customer',
      rules: [RULES.billerReferenceFormat, RULES.billerKnowsReference, RULES.billerAmountLimits, RULES.availableBalance, ...amountLimitRules('payment')],
      idempotency: 'required',
      params: PaymentIdParams,
      responses: {
        ...SUBMITTED,
        404: { description: 'No such payment of yours, or its biller has been withdrawn (`biller_not_found`).', schema: ProblemSchema },
        409: { description: '`payment_not_retryable`: the payment succeeded, is running, was cancelled, another attempt of the bill succeeded or runs, or it is a card payment.', schema: ProblemSchema },
        422: { description: '`insufficient_funds`, `limit_exceeded`, `amount_out_of_range` (the biller\'s limits changed) or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        await answerPayment(app, ctx, await retryPaymentOf(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), params.id));
      },
    }),
  ];
}
