import { listBillers } from '../../payments/billers/repository';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { ProblemSchema } from '../core/openapi';
import { clientAddress } from '../core/client-address';
import { rateLimit } from '../core/rate-limit';
import { route, type RouteSpec } from '../core/route';
import { RULES } from '../core/unstated-rules';
import { activeBiller, validateCustomer } from './checks';
import { presentBiller } from './presenters';
import { BillerIdParams, BillerPageSchema, BillerSchema, BillersQuery, CustomerValidationSchema, ValidateCustomerBody } from './schema';

/**
 * The biller catalogue and customer validation (docs/payments.md). Short reads answered
 * at once; nothing here moves money. A payment's quote is POST /v1/payments/quote, in payments/.
 */

const BILLER_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** An opaque cursor over the catalogue, ordered by id: the last id of the page. */
function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify([lastId])).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === 'string' && BILLER_ID.test(parsed[0])) return parsed[0];
  } catch {
    // Falls through to the problem below.
  }
  throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
}

export function billerRoutes(app: AppContext): RouteSpec[] {
  const { db, billers } = app.deps;

  return [
    route({
      method: 'get',
      path: '/v1/billers',
      summary: 'Billers, by id, optionally of one category; each with its fee, limits, reference format and cashback rate.',
      tags: ['billers'],
      access: 'customer',
      query: BillersQuery,
      responses: { 200: { description: 'One page of billers.', schema: BillerPageSchema } },
      handler: async (ctx, { query }) => {
        const afterId = query.cursor ? decodeCursor(query.cursor) : undefined;
        const rows = await listBillers(db, { category: query.category, afterId, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        ctx.body = { data: page.map(presentBiller), nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
      },
    }),
    route({
      method: 'get',
      path: '/v1/billers/:id',
      summary: 'One biller.',
      tags: ['billers'],
      access: 'customer',
      params: BillerIdParams,
      responses: {
        200: { description: 'The biller.', schema: BillerSchema },
        404: { description: 'No such biller.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = presentBiller(await activeBiller(db, params.id, 'id', 'path'));
      },
    }),
    route({
      method: 'post',
      path: '/v1/billers/:id/validate',
      summary: "Look up a customer reference at the biller: the customer's name and any amount due.",
      tags: ['billers'],
      access: 'customer',
      rules: [RULES.billerReferenceFormat, RULES.billerKnowsReference],
      params: BillerIdParams,
      body: ValidateCustomerBody,
      responses: {
        200: { description: 'The biller knows the customer.', schema: CustomerValidationSchema },
        404: { description: 'No such biller.', schema: ProblemSchema },
        422: { description: 'The biller does not know the reference (`invalid_customer_reference`).', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many lookups from this address or of this reference; see Retry-After.', schema: ProblemSchema },
        503: { description: 'The biller cannot be reached; retry later.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const biller = await activeBiller(db, params.id, 'id', 'path');
        // Answers whether a reference exists (and whose it is): limited, so it cannot be enumerated.
        await rateLimit(app, 'lookup', clientAddress(ctx), `biller:${biller.id}:${body.customerRef}`);
        const customer = await validateCustomer(billers, biller, body.customerRef);
        ctx.body = {
          billerId: biller.id,
          customerRef: body.customerRef,
          customerName: customer.customerName,
          amountDue: customer.amountDueMinor === null ? null : customer.amountDueMinor.toString(),
          currency: biller.currency,
        };
      },
    }),
  ];
}
