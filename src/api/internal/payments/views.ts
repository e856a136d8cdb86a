import type { Knex } from 'knex';
import type { PaymentRow } from '../../../payments/repository';
import type { AppContext } from '../../core/context';
import { paginate } from '../../core/pagination';
import { presentPayment } from '../../payments/presenters';
import { viewsOf, type PaymentView } from '../../payments/service';
import { paymentSearch } from '../temporal-links';
import type { OperatorPaymentsQuery } from './schema';

/** A payment as an operator sees it: the customer's view plus whose it is and where its workflows are. */
export function presentOperatorPayment(app: AppContext, view: PaymentView) {
  return { ...presentPayment(view), userId: view.row.user_id, workflowId: view.row.workflow_id, temporalUrl: paymentSearch(app.config, view.row.id) };
}

/** Payments an operator must act on: under review, an undo that failed, or a credit waiting for repair. */
function needingReview(db: Knex, query: Knex.QueryBuilder): void {
  query.where((q) =>
    q
      .where('payments.status', 'needs_review')
      .orWhereExists(db('payment_steps').whereRaw('payment_steps.payment_id = payments.id').where('payment_steps.status', 'compensation_failed'))
      .orWhereExists(db('payment_repairs').whereRaw('payment_repairs.payment_id = payments.id').where('payment_repairs.status', 'pending')),
  );
}

/** Every customer's payments, newest first, filtered as the query says. */
export async function listPaymentsForOperator(app: AppContext, filters: OperatorPaymentsQuery) {
  const { db } = app.deps;
  const query = db('payments').select('payments.*');
  if (filters.status) query.where('payments.status', filters.status);
  if (filters.billerId) query.where('payments.biller_id', filters.billerId);
  if (filters.userId) query.where('payments.user_id', filters.userId);
  if (filters.from) query.where('payments.created_at', '>=', new Date(filters.from));
  if (filters.to) query.where('payments.created_at', '<', new Date(filters.to));
  if (filters.needsReview === 'true') needingReview(db, query);
  const { rows, nextCursor } = await paginate<PaymentRow>(query, filters, 'payments');
  return { data: (await viewsOf(app, rows)).map((view) => presentOperatorPayment(app, view)), nextCursor };
}
