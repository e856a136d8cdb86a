import { clientAddress } from '../core/client-address';
import type { AppContext } from '../core/context';
import { ProblemSchema } from '../core/openapi';
import { rateLimit } from '../core/rate-limit';
import { route, type RouteSpec } from '../core/route';
import { CardIdParams, CardStatusQuery, CardStatusSchema } from './schema';
import { cardStatus } from './service';

/** "Where is my card?": the holder asks with the card id and their phone (docs/cards.md). */
export function cardRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/cards/:cardId/status',
      summary:
        "A card's delivery status and its history, for whoever knows the holder's phone. An unknown card and a wrong phone answer the same 404; lookups are limited per client and per card.",
      tags: ['cards'],
      access: 'public',
      params: CardIdParams,
      query: CardStatusQuery,
      responses: {
        200: { description: 'The latest status, its time, and every event, newest first.', schema: CardStatusSchema },
        404: { description: 'No card with this id for this phone (the same answer for an unknown card).', schema: ProblemSchema },
        429: { description: 'Too many lookups from this client or of this card; `Retry-After` says when to try again.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, query }) => {
        await rateLimit(app, 'cardStatus', clientAddress(ctx), params.cardId);
        ctx.body = await cardStatus(app, params.cardId, query.phone);
      },
    }),
  ];
}
