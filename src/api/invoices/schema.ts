import { z } from 'zod';
import { MinorUnits } from '../accounts/schema';
import { PageQuery, pageSchema } from '../core/pagination';

/** Shapes of invoices fetched from the customer's mailbox (docs/invoices.md). */

export const InvoicesQuery = PageQuery.extend({
  status: z.enum(['parsed', 'unparsed']).optional(),
  issuer: z.string().min(1).max(200).optional().meta({ description: 'Exactly as the invoice names it, case-insensitive.' }),
  dueMonth: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
    .optional()
    .meta({ example: '2026-12', description: 'Only invoices due in this month (YYYY-MM).' }),
});

export type InvoicesQuery = z.infer<typeof InvoicesQuery>;

export const InvoiceIdParams = z.object({ id: z.uuid() });

const LineItem = z.object({ name: z.string(), amount: MinorUnits });

export const InvoiceSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['parsed', 'unparsed']),
    unparsedReason: z.string().nullable().meta({ description: 'Why no template read it; an operator may add one and re-parse.' }),
    issuer: z.string().nullable(),
    invoiceNumber: z.string().nullable(),
    amountDue: MinorUnits.nullable(),
    currency: z.string().nullable(),
    dueDate: z.iso.date().nullable(),
    paymentReference: z.string().nullable(),
    period: z.string().nullable(),
    lineItems: z.array(LineItem),
    billerId: z.string().nullable().meta({ description: 'The biller it is paid to; null: it cannot be paid through finflow.' }),
    paymentId: z.uuid().nullable().meta({ description: 'The payment made for it (GET /v1/payments/{id}).' }),
    filename: z.string(),
    receivedAt: z.iso.datetime(),
  })
  .meta({ id: 'Invoice' });

export const InvoiceDetailSchema = InvoiceSchema.extend({
  downloadUrl: z.url().meta({ description: 'A presigned link to the PDF; it expires after 15 minutes.' }),
  downloadExpiresAt: z.iso.datetime(),
}).meta({ id: 'InvoiceDetail' });

export const InvoicePageSchema = pageSchema(InvoiceSchema).meta({ id: 'InvoicePage' });

export const IngestionSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['processing', 'completed', 'failed']),
    trigger: z.enum(['request', 'schedule']),
    messagesRead: z.number().int(),
    invoicesStored: z.number().int(),
    duplicates: z.number().int().meta({ description: 'PDFs already stored (the same bytes in another mail or folder, or read again after a UIDVALIDITY change).' }),
    parsed: z.number().int(),
    unparsed: z.number().int(),
    skipped: z.number().int().meta({ description: 'Attachments or mails left out, each recorded with its reason (not a PDF, too large, malformed MIME).' }),
    rescans: z.number().int(),
    lastError: z.string().nullable().meta({ description: 'Why the mailbox could not be read on the last attempt; the run retries.' }),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'InvoiceIngestion' });

export const IngestionIdParams = z.object({ id: z.uuid() });

export const PayInvoiceBody = z
  .object({ fromAccountId: z.uuid({ message: 'fromAccountId must be an account id (a UUID).' }).meta({ description: "Your wallet or savings account, in the invoice's currency." }) })
  .strict()
  .meta({ id: 'PayInvoiceRequest' });
