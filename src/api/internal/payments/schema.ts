import { z } from 'zod';
import { PageQuery, pageSchema } from '../../core/pagination';
import { PaymentSchema } from '../../payments/schema';

/** Shapes of the operator's payment views (docs/observability.md, "Operator views"). */

const Status = z.enum(['processing', 'needs_review', 'succeeded', 'failed', 'cancelled']);

export const OperatorPaymentsQuery = PageQuery.extend({
  status: Status.optional(),
  billerId: z.string().max(64).optional(),
  userId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created at or after (ISO 8601).' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created before (ISO 8601).' }),
  needsReview: z
    .enum(['true', 'false'])
    .optional()
    .meta({
      description:
        '`true`: only payments an operator must act on: in `needs_review`, with an undo that failed (`compensation_failed`), or with a credit queued for repair.',
    }),
}).refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] });

export type OperatorPaymentsQuery = z.infer<typeof OperatorPaymentsQuery>;

export const OperatorPaymentSchema = PaymentSchema.extend({
  userId: z.uuid(),
  workflowId: z.string(),
  temporalUrl: z.url().meta({ description: 'The Temporal Web UI search for this payment\'s workflows (PaymentId).' }),
}).meta({ id: 'OperatorPayment' });

export const OperatorPaymentPageSchema = pageSchema(OperatorPaymentSchema).meta({ id: 'OperatorPaymentPage' });
