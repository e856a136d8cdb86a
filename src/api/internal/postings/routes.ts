import type { AppContext } from '../../core/context';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { IdParams } from '../../core/schema';
import { presentPosting } from './presenters';
import { PostingSchema } from './schema';
import { findPosting } from '../service';

/** Where a posting is answered; it is made by POST /internal/v1/accounts/{accountId}/postings. */
export const postingPath = (id: string) => `/internal/v1/postings/${id}`;

/** A posting and its outcome. Service token only. */
export function internalPostingRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/internal/v1/postings/:id',
      summary: 'One posting and its outcome.',
      tags: ['internal'],
      access: 'service',
      params: IdParams,
      responses: {
        200: { description: 'The posting.', schema: PostingSchema },
        404: { description: 'No such posting.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = presentPosting(await findPosting(app, params.id));
      },
    }),
  ];
}
