import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { ProblemSchema } from '../core/openapi';
import { PageQuery } from '../core/pagination';
import { route, type RouteSpec } from '../core/route';
import { IdParams } from '../core/schema';
import { StatementPageSchema, StatementSchema } from './schema';
import { findStatement, listStatements, presentWithLink } from './service';

/** The caller's statements (requested through POST /v1/accounts/{id}/statements, monthly, or by SMS). */
export function statementRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/statements',
      summary: 'Your statements, newest first, each with a fresh download link while it is ready.',
      tags: ['statements'],
      access: 'customer',
      query: PageQuery,
      responses: { 200: { description: 'One page of statements.', schema: StatementPageSchema } },
      handler: async (ctx, { query }) => {
        const page = await listStatements(app, currentUserId(ctx.state), query);
        ctx.body = { data: await Promise.all(page.rows.map((row) => presentWithLink(app, row))), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/statements/:id',
      summary: 'One statement: status, period, totals and a fresh presigned download link while it is ready.',
      tags: ['statements'],
      access: 'customer',
      params: IdParams,
      responses: {
        200: { description: 'The statement.', schema: StatementSchema },
        404: { description: 'No such statement of yours.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = await presentWithLink(app, await findStatement(app, currentUserId(ctx.state), params.id));
      },
    }),
  ];
}
