import { z } from 'zod';
import type { AppContext } from '../context';
import { PageQuery, pageSchema, paginate } from '../pagination';
import { route, type RouteSpec } from '../route';

/** Operator views. The sandbox outbox shows what finflow would have sent to customers. */

const NotificationSchema = z
  .object({
    id: z.string().uuid(),
    userId: z.string().uuid().nullable(),
    channel: z.enum(['sms', 'email']),
    recipient: z.string(),
    template: z.string(),
    body: z.string(),
    status: z.string(),
    dedupeKey: z.string(),
    createdAt: z.string().datetime(),
  })
  .meta({ id: 'Notification' });

interface NotificationRow {
  id: string;
  user_id: string | null;
  channel: 'sms' | 'email';
  recipient: string;
  template: string;
  body: string;
  status: string;
  dedupe_key: string;
  created_at: Date;
}

const presentNotification = (row: NotificationRow) => ({
  id: row.id,
  userId: row.user_id,
  channel: row.channel,
  recipient: row.recipient,
  template: row.template,
  body: row.body,
  status: row.status,
  dedupeKey: row.dedupe_key,
  createdAt: row.created_at.toISOString(),
});

export function operatorRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  return [
    route({
      method: 'get',
      path: '/v1/operator/notifications',
      summary: 'The sandbox outbox: every message finflow sent (or would have sent), newest first.',
      tags: ['operator'],
      access: 'operator',
      query: PageQuery.extend({ userId: z.string().uuid().optional(), channel: z.enum(['sms', 'email']).optional() }),
      responses: { 200: { description: 'One page of messages.', schema: pageSchema(NotificationSchema) } },
      handler: async (ctx, { query }) => {
        const q = db('notifications').select('*');
        if (query.userId) q.where({ user_id: query.userId });
        if (query.channel) q.where({ channel: query.channel });
        const { rows, nextCursor } = await paginate<NotificationRow>(q, query, 'notifications');
        ctx.body = { data: rows.map(presentNotification), nextCursor };
      },
    }),
  ];
}
