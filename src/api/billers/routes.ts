import { createLedger } from '../../ledger/service';
import { RULES, accountCurrencyRule } from '../core/unstated-rules';
import { formatMoney } from '../../money/money';
import { BillerUnavailableError, matchesReferenceFormat, type Biller, type BillerPort } from '../../payments/billers/port';
import { cashbackGrantedInMonth, getBiller, listBillers } from '../../payments/billers/repository';
import { calendarMonth } from '../../payments/cashback';
import { isWithinLimits, quotePayment } from '../../payments/quote';
import { ownAccount } from '../accounts/routes';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { currentUserId } from '../core/middleware/auth';
import { ProblemSchema } from '../core/openapi';
import { clientAddress } from '../core/client-address';
import { rateLimit } from '../core/rate-limit';
import { route, type RouteSpec } from '../core/route';
import { presentBiller, presentQuote } from './presenters';
import {
  BillerIdParams,
  BillerPageSchema,
  BillerSchema,
  BillersQuery,
  CustomerValidationSchema,
  QuoteBody,
  QuoteSchema,
  ValidateCustomerBody,
} from './schema';

/**
 * The biller catalogue, customer validation and payment quotes (docs/payments.md). Short
 * reads answered at once; nothing here moves money. The quote lives here rather than
 * under payments/ because it is a question about a biller, answered without a workflow.
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

/** A reference that cannot be one of the biller's is bad input (400), checked before asking the biller. */
function assertReferenceFormat(biller: Biller, customerRef: string): void {
  if (!matchesReferenceFormat(biller, customerRef)) {
    throw problems.field('body', 'customerRef', 'invalid_format', `customerRef does not match ${biller.name}'s format, e.g. ${biller.customerRefExample}.`);
  }
}

/** The customer behind `customerRef`, or the problem that says why there is none. */
async function validateCustomer(billers: BillerPort, biller: Biller, customerRef: string) {
  assertReferenceFormat(biller, customerRef);
  let validation;
  try {
    validation = await billers.validate(biller, customerRef);
  } catch (err) {
    if (err instanceof BillerUnavailableError) throw problems.billerUnavailable();
    throw err;
  }
  if (!validation.valid) throw problems.invalidCustomerReference('customerRef', `${biller.name} does not know customer reference ${customerRef}.`);
  return validation;
}

export function billerRoutes(app: AppContext): RouteSpec[] {
  const { db, billers } = app.deps;
  const ledger = createLedger(db);

  async function activeBiller(id: string, field: string, location: 'path' | 'body'): Promise<Biller> {
    const biller = await getBiller(db, id);
    if (!biller) throw problems.billerNotFound(field, location);
    return biller;
  }

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
        ctx.body = presentBiller(await activeBiller(params.id, 'id', 'path'));
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
        const biller = await activeBiller(params.id, 'id', 'path');
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
    route({
      method: 'post',
      path: '/v1/payments/quote',
      summary: 'What paying a bill would cost (amount, fee, total) and earn (cashback), with the rules that applied.',
      tags: ['payments'],
      access: 'customer',
      rules: [RULES.billerReferenceFormat, RULES.billerKnowsReference, RULES.billerAmountLimits, accountCurrencyRule('fromAccountId')],
      body: QuoteBody,
      responses: {
        200: { description: 'The quote. Nothing is reserved: the cashback credited later may be lower if the monthly cap is reached first.', schema: QuoteSchema },
        404: { description: 'No such biller (`biller_not_found`) or account of yours (`account_not_found`).', schema: ProblemSchema },
        422: {
          description: 'The amount is outside the biller\'s limits (`amount_out_of_range`), the biller does not know the reference, or the account is in another currency.',
          schema: ProblemSchema,
        },
        503: { description: 'The biller cannot be reached; retry later.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const userId = currentUserId(ctx.state);
        const biller = await activeBiller(body.billerId, 'billerId', 'body');
        assertReferenceFormat(biller, body.customerRef);
        const amountMinor = BigInt(body.amount);
        if (!isWithinLimits(biller, amountMinor)) {
          throw problems.amountOutOfRange(formatMoney(biller.minAmountMinor, biller.currency), formatMoney(biller.maxAmountMinor, biller.currency));
        }
        const account = body.fromAccountId ? await ownAccount(ledger, userId, body.fromAccountId, 'fromAccountId') : null;
        if (account && account.currency !== biller.currency) throw problems.currencyMismatch('fromAccountId');
        const customer = await validateCustomer(billers, biller, body.customerRef);
        const monthToDate = await cashbackGrantedInMonth(db, userId, calendarMonth(app.deps.now()), biller.currency);
        const quote = quotePayment(biller, amountMinor, monthToDate);
        const sufficientFunds = account ? account.balances.availableMinor >= quote.totalMinor : null;
        ctx.body = presentQuote(quote, { customerRef: body.customerRef, customerName: customer.customerName }, sufficientFunds);
      },
    }),
  ];
}
