import type { AppContext } from '../../core/context';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { CardIdParams, CardStatusSchema } from '../../cards/schema';
import { cardStatus } from '../../cards/service';

/** The support desk's view of a card's delivery status: no phone needed (service token or operator). */
export function internalCardRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/internal/v1/cards/:cardId/status',
      summary: "A card's delivery status and its history, for the support desk.",
      tags: ['internal'],
      access: 'internal',
      params: CardIdParams,
      responses: {
        200: { description: 'The latest status, its time, and every event, newest first.', schema: CardStatusSchema },
        404: { description: 'No card with this id.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = await cardStatus(app, params.cardId, undefined);
      },
    }),
  ];
}
