import { z } from 'zod';
import type { AppContext } from '../../core/context';
import { problems } from '../../core/errors';
import { ProblemSchema } from '../../core/openapi';
import { PageQuery, pageSchema } from '../../core/pagination';
import { route, type RouteSpec } from '../../core/route';
import { listAuditEntries, type AuditRow } from './service';

/** Reading the operators' trail (src/api/core/middleware/audit-trail.ts writes it). */

const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    actor: z.object({
      type: z.enum(['user', 'service', 'anonymous']),
      userId: z.uuid().nullable(),
      role: z.string().nullable(),
    }),
    method: z.string(),
    route: z.string().meta({ example: '/internal/v1/accounts/:accountId/postings' }),
    path: z.string(),
    resourceId: z.string().nullable(),
    status: z.number().int(),
    requestId: z.string(),
    clientAddress: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'AuditEntry' });

const AuditQuery = PageQuery.extend({
  actor: z
    .union([z.literal('service'), z.literal('anonymous'), z.uuid()])
    .optional()
    .meta({ description: 'A user id, `service` or `anonymous`.' }),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Entries at or after this instant.' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Entries before this instant.' }),
});

const present = (row: AuditRow): z.infer<typeof AuditEntrySchema> => ({
  id: row.id,
  actor: { type: row.actor_type, userId: row.actor_user_id, role: row.actor_role },
  method: row.method,
  route: row.route,
  path: row.path,
  resourceId: row.resource_id,
  status: row.status,
  requestId: row.request_id,
  clientAddress: row.client_address,
  createdAt: row.created_at.toISOString(),
});

export function auditRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/internal/v1/audit',
      summary: 'The trail of operator and service-token requests, newest first; filter by actor and time.',
      tags: ['operator'],
      access: 'internal',
      query: AuditQuery,
      responses: {
        200: { description: 'One page of audit entries.', schema: pageSchema(AuditEntrySchema) },
        400: { description: '`validation_error`, also when `from` is not before `to`.', schema: ProblemSchema },
      },
      handler: async (ctx, { query }) => {
        if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to)) {
          throw problems.field('query', 'from', 'after_to', 'from must be before to.');
        }
        const { rows, nextCursor } = await listAuditEntries(app, query);
        ctx.body = { data: rows.map(present), nextCursor };
      },
    }),
  ];
}
