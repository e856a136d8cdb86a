import type { ParameterizedContext } from 'koa';
import { RULES, accountCurrencyRule } from '../core/unstated-rules';
import type { AppContext, AppState } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { idempotencyKeyOf } from '../core/middleware/idempotency';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { presentRecurringPayment, presentRuns } from './presenters';
import {
  RecurringPaymentBody,
  RecurringPaymentDetailSchema,
  RecurringPaymentIdParams,
  RecurringPaymentPageSchema,
  RecurringPaymentsQuery,
} from './schema';
import { changeRecurringPayment, createRecurringPayment, listRecurringPayments, viewRecurringPayment, type RecurringPaymentView } from './service';

const NOT_YOURS = { description: 'No such recurring payment of yours.', schema: ProblemSchema };

function presentView(view: RecurringPaymentView) {
  return {
    ...presentRecurringPayment(view.row),
    nextRuns: view.nextRuns.map((d) => d.toISOString()),
    pastRuns: presentRuns(view.row, view.payments),
  };
}

function answer(ctx: ParameterizedContext<AppState>, view: RecurringPaymentView, status = 200): void {
  ctx.status = status;
  ctx.body = presentView(view);
}

/** Recurring bill payments, each fired by a Temporal Schedule (docs/payments.md, "Recurring payments"). */
export function recurringPaymentRoutes(app: AppContext): RouteSpec[] {
  const lifecycle = (action: 'pause' | 'resume', summary: string) =>
    route({
      method: 'post',
      path: `/v1/recurring-payments/:id/${action}`,
      summary,
      tags: ['recurring-payments'],
      access: 'customer',
      idempotency: 'optional',
      params: RecurringPaymentIdParams,
      responses: {
        200: { description: 'The recurring payment as it now is (doing it twice changes nothing).', schema: RecurringPaymentDetailSchema },
        404: NOT_YOURS,
        409: { description: 'It is cancelled (`conflict`).', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => answer(ctx, await changeRecurringPayment(app, currentUserId(ctx.state), params.id, action)),
    });

  return [
    route({
      method: 'post',
      path: '/v1/recurring-payments',
      summary: 'Pay a bill weekly, monthly or quarterly at 09:00 in your timezone, from a start date on. The Idempotency-Key names it.',
      tags: ['recurring-payments'],
      access: 'customer',
      rules: [RULES.billerReferenceFormat, RULES.billerKnowsReference, RULES.billerAmountLimits, RULES.timezone, RULES.startDate, accountCurrencyRule('fromAccountId')],
      idempotency: 'required',
      body: RecurringPaymentBody,
      responses: {
        201: { description: 'Created, with its Schedule; `nextRuns` lists when it pays.', schema: RecurringPaymentDetailSchema },
        200: { description: 'A repeat of a recurring payment set up earlier (its Idempotency-Key outlived the replay window).', schema: RecurringPaymentDetailSchema },
        400: { description: '`validation_error`: e.g. startDate in the past, an unknown timezone, a customerRef not in the biller\'s format.', schema: ProblemSchema },
        404: { description: '`biller_not_found` (billerId) or `account_not_found` (fromAccountId).', schema: ProblemSchema },
        422: { description: '`amount_out_of_range`, `currency_mismatch`, `invalid_customer_reference`, or `idempotency_key_reused`.', schema: ProblemSchema },
        503: { description: 'The biller or Temporal cannot be reached; retry with the same Idempotency-Key.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const { view, fresh } = await createRecurringPayment(app, currentUserId(ctx.state), idempotencyKeyOf(ctx), body);
        ctx.set('Location', `/v1/recurring-payments/${view.row.id}`);
        answer(ctx, view, fresh ? 201 : 200);
      },
    }),
    route({
      method: 'get',
      path: '/v1/recurring-payments',
      summary: 'Your recurring payments, newest first (cancelled ones included).',
      tags: ['recurring-payments'],
      access: 'customer',
      query: RecurringPaymentsQuery,
      responses: { 200: { description: 'One page of recurring payments.', schema: RecurringPaymentPageSchema } },
      handler: async (ctx, { query }) => {
        const page = await listRecurringPayments(app, currentUserId(ctx.state), query);
        ctx.body = { data: page.rows.map(presentRecurringPayment), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/recurring-payments/:id',
      summary: 'One recurring payment: its next runs (from its Schedule) and its past runs with their payments.',
      tags: ['recurring-payments'],
      access: 'customer',
      params: RecurringPaymentIdParams,
      responses: { 200: { description: 'The recurring payment.', schema: RecurringPaymentDetailSchema }, 404: NOT_YOURS },
      handler: async (ctx, { params }) => answer(ctx, await viewRecurringPayment(app, currentUserId(ctx.state), params.id)),
    }),
    lifecycle('pause', 'Pause it: its Schedule stops firing until resumed.'),
    lifecycle('resume', 'Resume it: its Schedule fires again from the next run on (missed periods are not paid); any dunning is cleared.'),
    route({
      method: 'delete',
      path: '/v1/recurring-payments/:id',
      summary: 'Cancel it for good: its Schedule is deleted; its past runs stay visible.',
      tags: ['recurring-payments'],
      access: 'customer',
      params: RecurringPaymentIdParams,
      responses: { 200: { description: 'The cancelled recurring payment (cancelling twice changes nothing).', schema: RecurringPaymentDetailSchema }, 404: NOT_YOURS },
      handler: async (ctx, { params }) => answer(ctx, await changeRecurringPayment(app, currentUserId(ctx.state), params.id, 'cancel')),
    }),
  ];
}
