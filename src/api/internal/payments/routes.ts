import type { AppContext } from '../../core/context';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { presentPayment } from '../../payments/presenters';
import { PaymentIdParams, PaymentSchema, ResolvePaymentBody } from '../../payments/schema';
import { resolvePayment } from '../../payments/service';
import { RULES } from '../../core/unstated-rules';
import { OperatorPaymentPageSchema, OperatorPaymentsQuery } from './schema';
import { listPaymentsForOperator } from './views';

/** An operator's answer, through the bank side, for a payment whose biller outcome was unknown. Service token only. */
export function internalPaymentRoutes(app: AppContext): RouteSpec[] {
  return [
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
        ctx.body = presentPayment(view);
      },
    }),
    route({
      method: 'get',
      path: '/internal/v1/payments',
      summary: 'Every customer\'s payments, newest first: by status, biller, customer, creation time, or only those an operator must act on (`needsReview`).',
      tags: ['internal'],
      access: 'internal',
      rules: [RULES.fromBeforeTo],
      query: OperatorPaymentsQuery,
      responses: { 200: { description: 'One page of payments, each with a link to its workflows in the Temporal Web UI.', schema: OperatorPaymentPageSchema } },
      handler: async (ctx, { query }) => {
        ctx.body = await listPaymentsForOperator(app, query);
      },
    }),
  ];
}
