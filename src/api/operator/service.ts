import type { NotificationRow } from '../../providers/outbox';
import type { AppContext } from '../core/context';
import { paginate, type PageQuery } from '../core/pagination';

/** One page of the outbox, newest first, optionally of one user or one channel. */
export function listNotifications(
  app: AppContext,
  query: PageQuery & { userId?: string; channel?: NotificationRow['channel'] },
): Promise<{ rows: NotificationRow[]; nextCursor: string | null }> {
  const q = app.deps.db('notifications').select('*');
  if (query.userId) q.where({ user_id: query.userId });
  if (query.channel) q.where({ channel: query.channel });
  return paginate<NotificationRow>(q, query, 'notifications');
}
