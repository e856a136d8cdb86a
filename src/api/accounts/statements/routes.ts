import type { AppContext } from '../../core/context';
import { currentUserId } from '../../core/middleware/auth';
import { idempotencyKeyOf } from '../../core/middleware/idempotency';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { RULES } from '../../core/unstated-rules';
import { AccountIdParams } from '../schema';
import { StatementRequestBody, StatementSchema } from '../../statements/schema';
import { presentWithLink, requestStatement } from '../../statements/service';

/** Asking for a statement of one of your accounts (docs/statements.md). */
export function accountStatementRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/accounts/:id/statements',
      summary: 'Ask for an encrypted PDF statement of the last n transactions or of a period; it is texted to you as an expiring link. The Idempotency-Key names the statement.',
      tags: ['statements'],
      access: 'customer',
      idempotency: 'required',
      rules: [RULES.statementLastNOrRange, RULES.statementPeriodFromBeforeTo, RULES.statementPeriodComplete, RULES.statementPeriodNotFuture],
      params: AccountIdParams,
      body: StatementRequestBody,
      responses: {
        202: { description: 'Accepted (`status: processing`); poll `Location`.', schema: StatementSchema },
        200: { description: 'A repeat of a statement requested earlier (its Idempotency-Key outlived the replay window).', schema: StatementSchema },
        400: { description: '`validation_error`: lastN out of 1..1000, from/to missing one another or reversed, `to` in the future.', schema: ProblemSchema },
        404: { description: '`account_not_found` (id): no such account of yours.', schema: ProblemSchema },
        422: { description: '`idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const row = await requestStatement(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), params.id, body);
        ctx.set('Location', `/v1/statements/${row.id}`);
        ctx.status = row.status === 'processing' ? 202 : 200;
        ctx.body = await presentWithLink(app, row);
      },
    }),
  ];
}
