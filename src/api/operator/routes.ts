import { z } from 'zod';
import { NOTIFICATION_STATUSES, type NotificationRow } from '../../providers/outbox';
import type { AppContext } from '../core/context';
import { PageQuery, pageSchema } from '../core/pagination';
import { route, type RouteSpec } from '../core/route';
import { listNotifications } from './service';

/**
 * Operator views. The outbox shows every message finflow sent (or, on the sandbox,
 * would have sent) and what became of it: provider, delivery status, attempts, errors.
 */

export const NotificationSchema = z
  .object({
    id: z.string().uuid(),
    userId: z.string().uuid().nullable(),
    channel: z.enum(['sms', 'email']),
    recipient: z.string(),
    template: z.string(),
    body: z.string(),
    status: z.enum(NOTIFICATION_STATUSES),
    dedupeKey: z.string(),
    provider: z.string().nullable(),
    providerMessageId: z.string().nullable(),
    attempts: z.number().int(),
    errorReason: z.string().nullable(),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
    deliveredAt: z.string().datetime().nullable(),
  })
  .meta({ id: 'Notification' });

export const presentNotification = (row: NotificationRow) => ({
  id: row.id,
  userId: row.user_id,
  channel: row.channel,
  recipient: row.recipient,
  template: row.template,
  body: row.body,
  status: row.status,
  dedupeKey: row.dedupe_key,
  provider: row.provider,
  providerMessageId: row.provider_message_id,
  attempts: row.attempts,
  errorReason: row.error_reason,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  deliveredAt: row.delivered_at?.toISOString() ?? null,
});

export function operatorRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/operator/notifications',
      summary: 'The outbox: every message finflow sent (or would have sent) and its delivery status, newest first.',
      tags: ['operator'],
      access: 'operator',
      query: PageQuery.extend({ userId: z.string().uuid().optional(), channel: z.enum(['sms', 'email']).optional() }),
      responses: { 200: { description: 'One page of messages.', schema: pageSchema(NotificationSchema) } },
      handler: async (ctx, { query }) => {
        const { rows, nextCursor } = await listNotifications(app, query);
        ctx.body = { data: rows.map(presentNotification), nextCursor };
      },
    }),
  ];
}
