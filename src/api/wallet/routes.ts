import { ProblemSchema } from '../core/openapi';
import { accountCurrencyRule, amountLimitRules } from '../core/unstated-rules';
import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { idempotencyKeyOf } from '../core/middleware/idempotency';
import { route, type RouteSpec } from '../core/route';
import { presentFunding } from './presenters';
import { answer } from '../core/money-requests';
import { IdParams } from '../core/schema';
import { FundBody, FundingSchema } from './schema';
import { findFunding, fundWallet } from './service';

const fundingPath = (id: string) => `/v1/wallet/fundings/${id}`;

/** Topping up a wallet from a card or bank account through the funding processor. */
export function walletRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/wallet/fund',
      summary: 'Charge a card or bank account and credit the wallet. The Idempotency-Key names the funding.',
      tags: ['wallet'],
      access: 'customer',
      rules: [accountCurrencyRule('currency'), ...amountLimitRules('funding')],
      idempotency: 'required',
      body: FundBody,
      responses: {
        201: { description: 'Finished within a few seconds: `status` is `succeeded`, or `failed` with `failureReason` (e.g. `card_declined`).', schema: FundingSchema },
        200: { description: 'A repeat of a funding made earlier (its Idempotency-Key outlived the replay window).', schema: FundingSchema },
        202: { description: 'Still processing; poll `Location`.', schema: FundingSchema },
        404: { description: '`account_not_found`: no such account of yours.', schema: ProblemSchema },
        422: { description: '`currency_mismatch`, `limit_exceeded` (amount; `errors[0].code` names the limit: `funding.per_transaction` or `funding.daily`), or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const submitted = await fundWallet(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), body);
        answer(ctx, submitted, presentFunding, fundingPath(submitted.row.id));
      },
    }),
    route({
      method: 'get',
      path: '/v1/wallet/fundings/:id',
      summary: 'One of your wallet fundings.',
      tags: ['wallet'],
      access: 'customer',
      params: IdParams,
      responses: {
        200: { description: 'The funding.', schema: FundingSchema },
        404: { description: 'No such funding of yours.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = presentFunding(await findFunding(app, currentUserId(ctx.state), params.id));
      },
    }),
  ];
}
