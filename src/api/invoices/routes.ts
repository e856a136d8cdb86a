import { answerPayment, SUBMITTED } from '../payments/answer';
import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { accountCurrencyRule } from '../core/unstated-rules';
import { presentIngestion, presentInvoice } from './presenters';
import { IngestionIdParams, IngestionSchema, InvoiceDetailSchema, InvoiceIdParams, InvoicePageSchema, InvoicesQuery, PayInvoiceBody } from './schema';
import { downloadLinkOf, listInvoices, ownIngestion, ownInvoice, payInvoice, startIngestion } from './service';

const NOT_YOURS = { description: 'No such invoice of yours.', schema: ProblemSchema };

/** Invoices fetched from the customer's mailbox (docs/invoices.md). */
export function invoiceRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/invoices',
      summary: 'Your invoices, newest due date first (unparsed ones last).',
      tags: ['invoices'],
      access: 'customer',
      query: InvoicesQuery,
      responses: { 200: { description: 'One page of invoices.', schema: InvoicePageSchema } },
      handler: async (ctx, { query }) => {
        const page = await listInvoices(app, currentUserId(ctx.state), query);
        ctx.body = { data: page.rows.map(presentInvoice), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'post',
      path: '/v1/invoices/ingest',
      summary: 'Fetch new invoices from your mailbox now. One fetch of a mailbox runs at a time: while one runs, it is the answer.',
      tags: ['invoices'],
      access: 'customer',
      responses: {
        202: { description: 'Fetching; `Location` shows its progress.', schema: IngestionSchema },
        409: { description: '`mailbox_not_connected`: connect one first (PUT /v1/me/mailbox).', schema: ProblemSchema },
      },
      handler: async (ctx) => {
        const row = await startIngestion(app, currentUserId(ctx.state));
        ctx.status = 202;
        ctx.set('Location', `/v1/invoices/ingestions/${row.id}`);
        ctx.body = presentIngestion(row);
      },
    }),
    route({
      method: 'get',
      path: '/v1/invoices/ingestions/:id',
      summary: 'Progress of one fetch of your mailbox: mails read, invoices stored and parsed, skips, and why the mailbox could not be read if it could not.',
      tags: ['invoices'],
      access: 'customer',
      params: IngestionIdParams,
      responses: { 200: { description: 'The fetch.', schema: IngestionSchema }, 404: { description: 'No such fetch of yours.', schema: ProblemSchema } },
      handler: async (ctx, { params }) => {
        ctx.body = presentIngestion(await ownIngestion(app, currentUserId(ctx.state), params.id));
      },
    }),
    route({
      method: 'get',
      path: '/v1/invoices/:id',
      summary: 'One invoice: its fields, line items and a presigned link to the PDF.',
      tags: ['invoices'],
      access: 'customer',
      params: InvoiceIdParams,
      responses: { 200: { description: 'The invoice.', schema: InvoiceDetailSchema }, 404: NOT_YOURS },
      handler: async (ctx, { params }) => {
        const row = await ownInvoice(app, currentUserId(ctx.state), params.id);
        const link = await downloadLinkOf(app, row);
        ctx.body = { ...presentInvoice(row), downloadUrl: link.url, downloadExpiresAt: link.expiresAt.toISOString() };
      },
    }),
    route({
      method: 'post',
      path: '/v1/invoices/:id/pay',
      summary: "Pay the invoice through the bill-payment saga: its issuer's biller, its payment reference, its amount due. Once per invoice: asking again answers the same payment.",
      tags: ['invoices'],
      access: 'customer',
      params: InvoiceIdParams,
      body: PayInvoiceBody,
      rules: [
        accountCurrencyRule('fromAccountId'),
        { rule: 'available-balance', in: 'body', field: 'fromAccountId', code: 'insufficient_funds', description: "The account's available balance must cover the amount due and the biller's fee (422)." },
        { rule: 'invoice-payable', in: 'path', field: 'id', code: 'conflict', description: 'The invoice must be parsed and its issuer a biller finflow pays (409).' },
      ],
      responses: {
        ...SUBMITTED,
        404: { description: '`not_found` (the invoice) or `account_not_found` (fromAccountId).', schema: ProblemSchema },
        409: { description: '`conflict`: the invoice is unparsed, or its issuer is not a biller finflow pays.', schema: ProblemSchema },
        422: { description: '`insufficient_funds`, `currency_mismatch`, `limit_exceeded`, or `idempotency_key_reused` (paid before from another account).', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        await answerPayment(app, ctx, await payInvoice(app, currentUserId(ctx.state), params.id, body.fromAccountId));
      },
    }),
  ];
}
