import type { AppContext } from '../../core/context';
import { paginate, type PageQuery } from '../../core/pagination';

/** One entry of the operators' trail, as core/middleware/audit-trail.ts writes it. */
export interface AuditRow {
  id: string;
  actor_type: 'user' | 'service' | 'anonymous';
  actor_user_id: string | null;
  actor_role: string | null;
  method: string;
  route: string;
  path: string;
  resource_id: string | null;
  status: number;
  request_id: string;
  client_address: string | null;
  created_at: Date;
}

/** One page of the trail, newest first: of one actor (a user id, `service` or `anonymous`), within [from, to). */
export function listAuditEntries(
  app: AppContext,
  query: PageQuery & { actor?: string; from?: string; to?: string },
): Promise<{ rows: AuditRow[]; nextCursor: string | null }> {
  const q = app.deps.db('audit_log').select('*');
  if (query.actor === 'service' || query.actor === 'anonymous') q.where({ actor_type: query.actor });
  else if (query.actor) q.where({ actor_user_id: query.actor });
  if (query.from) q.where('created_at', '>=', new Date(query.from));
  if (query.to) q.where('created_at', '<', new Date(query.to));
  return paginate<AuditRow>(q, query, 'audit_log');
}
