import { AccountSchema } from '../../accounts/schema';
import { presentAccount } from '../../accounts/presenters';
import type { AppContext } from '../../core/context';
import { idempotencyKeyOf } from '../../core/middleware/idempotency';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { RULES } from '../../core/unstated-rules';
import { OpenAccountBody, UserIdParams } from './schema';
import { openCustomerAccount } from '../service';

/** The bank side opens savings accounts and credit cards for customers. Service token only. */
export function internalUserRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/internal/v1/users/:userId/accounts',
      summary: 'Open a savings account or a credit card (with its limit and statement day) for a customer.',
      tags: ['internal'],
      access: 'service',
      rules: [RULES.creditLimitForCards, RULES.statementDayForCards],
      idempotency: 'optional',
      params: UserIdParams,
      body: OpenAccountBody,
      responses: {
        201: { description: 'The account.', schema: AccountSchema },
        404: { description: '`user_not_found`: no such customer.', schema: ProblemSchema },
        422: { description: '`idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const account = await openCustomerAccount(app, params.userId, idempotencyKeyOf(ctx) || undefined, body);
        ctx.status = 201;
        ctx.body = presentAccount(account);
      },
    }),
  ];
}
