import { z } from 'zod';
import { presentAccount } from '../../accounts/presenters';
import { AccountSchema } from '../../accounts/schema';
import { UserSchema } from '../../auth/schema';
import { findUser } from '../../auth/service';
import type { AppContext } from '../../core/context';
import { problems } from '../../core/errors';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { NotificationSchema, presentNotification } from '../../operator/routes';
import type { PaymentRow } from '../../../payments/repository';
import type { NotificationRow } from '../../../providers/outbox';
import { viewsOf } from '../../payments/service';
import { OperatorPaymentSchema } from '../payments/schema';
import { presentOperatorPayment } from '../payments/views';
import { customerSearch } from '../temporal-links';
import { UserIdParams } from './schema';

/** How much of a customer's recent history the operator's view shows; the lists page on. */
const RECENT = 10;

const OperatorUserSchema = z
  .object({
    user: UserSchema,
    accounts: z.array(AccountSchema),
    recentPayments: z.array(OperatorPaymentSchema).meta({ description: `The latest ${RECENT}; GET /internal/v1/payments?userId= pages on.` }),
    recentNotifications: z.array(NotificationSchema).meta({ description: `The latest ${RECENT} messages; GET /v1/operator/notifications?userId= pages on.` }),
    temporalUrl: z.url().meta({ description: 'The Temporal Web UI search for every workflow of this customer (CustomerId).' }),
  })
  .meta({ id: 'OperatorUser' });

/** What an operator asks first about a customer, on one page. */
async function operatorViewOf(app: AppContext, userId: string) {
  const { db, ledger } = app.deps;
  const user = await findUser(app, userId);
  if (!user) throw problems.userNotFound('userId');
  const [accounts, payments, notifications] = await Promise.all([
    ledger.listAccounts(userId),
    db('payments').where({ user_id: userId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(RECENT) as Promise<PaymentRow[]>,
    db('notifications').where({ user_id: userId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(RECENT) as Promise<NotificationRow[]>,
  ]);
  return {
    user,
    accounts: accounts.map(presentAccount),
    recentPayments: (await viewsOf(app, payments)).map((view) => presentOperatorPayment(app, view)),
    recentNotifications: notifications.map(presentNotification),
    temporalUrl: customerSearch(app.config, userId),
  };
}

export function internalUserViewRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/internal/v1/users/:userId',
      summary: 'One customer as an operator sees them: profile, accounts with balances, recent payments and messages, and their workflows in the Temporal Web UI.',
      tags: ['internal'],
      access: 'internal',
      params: UserIdParams,
      responses: {
        200: { description: 'The customer.', schema: OperatorUserSchema },
        404: { description: '`user_not_found`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = await operatorViewOf(app, params.userId);
      },
    }),
  ];
}
