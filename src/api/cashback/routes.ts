import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { idempotencyKeyOf } from '../core/middleware/idempotency';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { RULES } from '../core/unstated-rules';
import { RedeemBody, RedemptionSchema } from './schema';
import { redeemCashback } from './service';

/** Spending cashback outside a payment: moving it to the wallet. */
export function cashbackRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/cashback/redeem',
      summary: 'Move cashback to your wallet in the same currency, all at once or not at all.',
      tags: ['wallet'],
      access: 'customer',
      rules: [RULES.cashbackBalance, RULES.walletInCurrency],
      idempotency: 'required',
      body: RedeemBody,
      responses: {
        201: { description: 'Redeemed: the cashback is on the wallet.', schema: RedemptionSchema },
        400: { description: '`validation_error`, or `no_wallet` when you have no wallet in `currency`.', schema: ProblemSchema },
        422: { description: '`insufficient_cashback`: more than the cashback account holds (nothing moves), or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        ctx.status = 201;
        ctx.body = await redeemCashback(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), body);
      },
    }),
  ];
}
