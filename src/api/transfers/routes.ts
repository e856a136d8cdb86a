import { ProblemSchema } from '../core/openapi';
import { RULES, accountCurrencyRule, amountLimitRules } from '../core/unstated-rules';
import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { idempotencyKeyOf } from '../core/middleware/idempotency';
import { clientAddress } from '../core/client-address';
import { route, type RouteSpec } from '../core/route';
import { answer } from '../core/money-requests';
import { IdParams } from '../core/schema';
import { presentTransfer } from './presenters';
import { TransferBody, TransferSchema } from './schema';
import { failureProblem, findTransfer, sendTransfer } from './service';

const transferPath = (id: string) => `/v1/transfers/${id}`;

/** Money between customers, by the recipient's email or phone. */
export function transferRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/transfers',
      summary: "Send money from one of your accounts to another customer's wallet. The Idempotency-Key names the transfer.",
      tags: ['transfers'],
      access: 'customer',
      rules: [accountCurrencyRule('currency'), RULES.availableBalance, ...amountLimitRules('transfer')],
      idempotency: 'required',
      body: TransferBody,
      responses: {
        201: { description: 'Posted (`status: succeeded`).', schema: TransferSchema },
        200: { description: 'A repeat of a transfer made earlier (its Idempotency-Key outlived the replay window).', schema: TransferSchema },
        202: { description: 'Still processing; poll `Location`.', schema: TransferSchema },
        400: { description: '`validation_error`, also for a transfer to yourself (`to`).', schema: ProblemSchema },
        404: { description: '`account_not_found` (fromAccountId).', schema: ProblemSchema },
        422: {
          description:
            '`recipient_not_verified` (to.email / to.phone: unknown, or not verified by its owner; one answer for both), `insufficient_funds` (amount), `currency_mismatch`, `limit_exceeded` (amount; `errors[0].code` names the limit: `transfer.per_transaction` or `transfer.daily`), or `idempotency_key_reused`.',
          schema: ProblemSchema,
        },
        429: { description: '`rate_limited`: too many recipient lookups from this address or for this contact; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const submitted = await sendTransfer(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), body, clientAddress(ctx));
        const problem = submitted.row.status === 'failed' ? failureProblem(submitted.row.failure_reason) : undefined;
        if (problem) throw problem;
        answer(ctx, submitted, presentTransfer, transferPath(submitted.row.id));
      },
    }),
    route({
      method: 'get',
      path: '/v1/transfers/:id',
      summary: 'A transfer you sent.',
      tags: ['transfers'],
      access: 'customer',
      params: IdParams,
      responses: {
        200: { description: 'The transfer.', schema: TransferSchema },
        404: { description: 'No such transfer sent by you.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = presentTransfer(await findTransfer(app, currentUserId(ctx.state), params.id));
      },
    }),
  ];
}
