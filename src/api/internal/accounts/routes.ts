import { AccountSchema } from '../../accounts/schema';
import { RULES, accountCurrencyRule } from '../../core/unstated-rules';
import { presentAccount } from '../../accounts/presenters';
import type { AppContext } from '../../core/context';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { answer } from '../../core/money-requests';
import { IdParams } from '../../wallet/schema';
import { presentPayment } from '../../payments/presenters';
import { PaymentIdParams, PaymentSchema, ResolvePaymentBody } from '../../payments/schema';
import { resolvePayment } from '../../payments/service';
import { presentPosting } from '../presenters';
import { AccountIdParams, OpenAccountBody, PostingBody, PostingSchema, UserIdParams } from '../schema';
import { findPosting, openCustomerAccount, postToAccount, postingFailureProblem } from '../service';

const postingPath = (id: string) => `/internal/v1/postings/${id}`;

/** The bank side: opens customer accounts and posts deposits and debits to them. Service token only. */
export function internalRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/internal/v1/users/:userId/accounts',
      summary: 'Open a savings account or a credit card (with its limit) for a customer.',
      tags: ['internal'],
      access: 'service',
      rules: [RULES.creditLimitForCards],
      idempotency: 'optional',
      params: UserIdParams,
      body: OpenAccountBody,
      responses: {
        201: { description: 'The account.', schema: AccountSchema },
        404: { description: '`user_not_found`: no such customer.', schema: ProblemSchema },
        422: { description: '`idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const account = await openCustomerAccount(app, params.userId, ctx.get('idempotency-key') || undefined, body);
        ctx.status = 201;
        ctx.body = presentAccount(account);
      },
    }),
    route({
      method: 'post',
      path: '/internal/v1/accounts/:accountId/postings',
      summary: "Post a deposit or a debit to a customer account; the holder gets an SMS alert. The Idempotency-Key names the posting.",
      tags: ['internal'],
      access: 'service',
      rules: [RULES.postingDirection, accountCurrencyRule('currency'), RULES.availableBalance, RULES.cardCreditLimit],
      idempotency: 'required',
      params: AccountIdParams,
      body: PostingBody,
      responses: {
        201: { description: 'Posted (`status: succeeded`).', schema: PostingSchema },
        200: { description: 'A repeat of a posting made earlier (its Idempotency-Key outlived the replay window).', schema: PostingSchema },
        202: { description: 'Still processing; poll `Location` (a later failure shows there with its reason).', schema: PostingSchema },
        404: { description: '`account_not_found`.', schema: ProblemSchema },
        422: { description: '`insufficient_funds`, `exceeds_credit_limit`, `currency_mismatch` or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const submitted = await postToAccount(app, params.accountId, ctx.get('idempotency-key'), body);
        const problem = submitted.row.status === 'failed' ? postingFailureProblem(submitted.row.failure_reason) : undefined;
        if (problem) throw problem;
        answer(ctx, submitted, presentPosting, postingPath(submitted.row.id));
      },
    }),
    route({
      method: 'post',
      path: '/internal/v1/payments/:id/resolve',
      summary:
        'Resolve a payment in `needs_review` (the biller outcome was unknown): `paid` posts its hold and goes on, `not_paid` voids it and tells the customer the money is back.',
      tags: ['internal'],
      access: 'service',
      idempotency: 'optional',
      params: PaymentIdParams,
      body: ResolvePaymentBody,
      responses: {
        200: { description: 'Resolved: the payment as it ended (also for a repeat of the same resolution).', schema: PaymentSchema },
        202: { description: 'Resolution accepted; the hold is being posted or voided. Poll `GET /v1/payments/{id}` as its owner.', schema: PaymentSchema },
        404: { description: 'No such payment.', schema: ProblemSchema },
        409: { description: '`payment_not_in_review`: the payment is not waiting for a resolution, or was resolved the other way.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const { status, view } = await resolvePayment(app, params.id, body);
        ctx.status = status === 'done' ? 200 : 202;
        ctx.body = presentPayment(view.row, view.steps);
      },
    }),
    route({
      method: 'get',
      path: '/internal/v1/postings/:id',
      summary: 'One posting and its outcome.',
      tags: ['internal'],
      access: 'service',
      params: IdParams,
      responses: {
        200: { description: 'The posting.', schema: PostingSchema },
        404: { description: 'No such posting.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = presentPosting(await findPosting(app, params.id));
      },
    }),
  ];
}
