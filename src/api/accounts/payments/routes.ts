import type { AppContext } from '../../core/context';
import { currentUserId } from '../../core/middleware/auth';
import { idempotencyKeyOf } from '../../core/middleware/idempotency';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { RULES, accountCurrencyRule, amountLimitRules } from '../../core/unstated-rules';
import { SUBMITTED, answerPayment } from '../../payments/answer';
import { CardIdParams, CardPaymentBody } from '../../payments/schema';
import { payCardFor } from '../../payments/service';

/** Paying a credit card's bill, run by the card payment saga; the payment is then one of /v1/payments (docs/payments.md). */
export function cardPaymentRoutes(app: AppContext): RouteSpec[] {
  return [
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
        await answerPayment(app, ctx, await payCardFor(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), params.cardId, body));
      },
    }),
  ];
}
