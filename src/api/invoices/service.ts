import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { PaymentRow } from '../../payments/repository';
import { findMailbox } from '../../invoices/mailboxes';
import { withDeadline } from '../../temporal/client';
import { TASK_QUEUES, searchAttributes, workflowIds } from '../../temporal/names';
import type { IngestMailboxWorkflow } from '../../workflows/invoices/contract';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import type { Submitted } from '../core/money-requests';
import { payBillFor } from '../payments/service';
import { invoicePortsOf } from '../me/mailbox/service';
import type { InvoicesQuery } from './schema';

/** Reading, fetching and paying the customer's invoices (docs/invoices.md). */

export interface InvoiceRow {
  id: string;
  user_id: string;
  status: 'parsed' | 'unparsed';
  unparsed_reason: string | null;
  issuer: string | null;
  invoice_number: string | null;
  amount_due_minor: string | null;
  currency: string | null;
  due_date: string | null;
  payment_reference: string | null;
  period: string | null;
  line_items: Array<{ name: string; amountMinor: string }>;
  biller_id: string | null;
  payment_id: string | null;
  filename: string;
  object_key: string;
  created_at: Date;
}

export interface IngestionRow {
  id: string;
  status: 'processing' | 'completed' | 'failed';
  trigger: 'request' | 'schedule';
  messages_read: number;
  invoices_stored: number;
  duplicates: number;
  parsed: number;
  unparsed: number;
  skipped: number;
  rescans: number;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** How long a download link works. */
export const DOWNLOAD_LINK_SECONDS = 15 * 60;

/** The columns read, the due date as text (node-postgres would make a local-midnight Date of a `date`). */
const COLUMNS = ['*', 'invoices.id', "to_char(due_date, 'YYYY-MM-DD') as due_date"];

const invoices = (app: AppContext) => app.deps.db('invoices').select(app.deps.db.raw(COLUMNS.join(', ')));

/** Cursor of the newest-due-first order: the last row's due date (or none) and id. */
function encodeCursor(row: Pick<InvoiceRow, 'due_date' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.due_date, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { dueDate: string | null; id: string } {
  try {
    const [dueDate, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if ((dueDate !== null && (typeof dueDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(dueDate))) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('shape');
    return { dueDate: dueDate, id };
  } catch {
    throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
  }
}

/** The customer's invoices, newest due date first (unparsed ones, which have none, last). */
export async function listInvoices(app: AppContext, userId: string, query: InvoicesQuery): Promise<{ rows: InvoiceRow[]; nextCursor: string | null }> {
  const q = invoices(app).where({ user_id: userId });
  if (query.status) q.where({ status: query.status });
  if (query.issuer) q.whereRaw('lower(issuer) = lower(?)', [query.issuer]);
  if (query.dueMonth) q.whereRaw("to_char(due_date, 'YYYY-MM') = ?", [query.dueMonth]);
  if (query.cursor) {
    const { dueDate, id } = decodeCursor(query.cursor);
    // Rows after the cursor in (due_date desc nulls last, id desc).
    if (dueDate === null) q.whereNull('due_date').where('invoices.id', '<', id);
    else q.where((w) => w.where('due_date', '<', dueDate).orWhereNull('due_date').orWhere((e) => e.where('due_date', dueDate).where('invoices.id', '<', id)));
  }
  const rows = (await q.orderByRaw('invoices.due_date desc nulls last, invoices.id desc').limit(query.limit + 1)) as InvoiceRow[];
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/** The caller's own invoice, or 404: another customer's is indistinguishable from none. */
export async function ownInvoice(app: AppContext, userId: string, id: string): Promise<InvoiceRow> {
  const row = (await invoices(app).where({ 'invoices.id': id, user_id: userId }).first()) as InvoiceRow | undefined;
  if (!row) throw problems.notFound('No such invoice.');
  return row;
}

export async function downloadLinkOf(app: AppContext, row: InvoiceRow): Promise<{ url: string; expiresAt: Date }> {
  const url = await invoicePortsOf(app).storage.presignGet(row.object_key, DOWNLOAD_LINK_SECONDS, { downloadName: row.filename });
  return { url, expiresAt: new Date(app.deps.now().getTime() + DOWNLOAD_LINK_SECONDS * 1000) };
}

/**
 * Starts an ingestion of the caller's mailbox under its one workflow id. When one is
 * running already (asked for, or the weekday Schedule's), that one is the answer.
 */
export async function startIngestion(app: AppContext, userId: string): Promise<IngestionRow> {
  const { db, temporal } = app.deps;
  if (!(await findMailbox(db, userId))) throw problems.mailboxNotConnected();
  const id = randomUUID();
  await db('invoice_ingestions').insert({ id, user_id: userId, status: 'processing', trigger: 'request' });
  try {
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
      temporal.workflow.start<IngestMailboxWorkflow>('ingestMailbox', {
        taskQueue: TASK_QUEUES.core,
        workflowId: workflowIds.invoiceIngestion(userId),
        args: [{ userId, ingestionId: id, trigger: 'request' }],
        typedSearchAttributes: [{ key: searchAttributes.CustomerId, value: userId }],
      }),
    );
  } catch (err) {
    await db('invoice_ingestions').where({ id }).delete();
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = (await db('invoice_ingestions').where({ user_id: userId, status: 'processing' }).orderBy('created_at', 'desc').first()) as IngestionRow | undefined;
    if (running) return running;
    throw problems.conflict('An ingestion of this mailbox is starting; retry in a moment.');
  }
  return (await db('invoice_ingestions').where({ id }).first()) as IngestionRow;
}

export async function ownIngestion(app: AppContext, userId: string, id: string): Promise<IngestionRow> {
  const row = (await app.deps.db('invoice_ingestions').where({ id, user_id: userId }).first()) as IngestionRow | undefined;
  if (!row) throw problems.notFound('No such ingestion.');
  return row;
}

/**
 * Pays an invoice through the bill-payment saga: the issuer's biller, the invoice's
 * payment reference as the customer reference, its amount due. The invoice is the
 * payment's Idempotency-Key (`invoice:<id>`), so it is paid once however often this is asked.
 */
export async function payInvoice(app: AppContext, userId: string, id: string, fromAccountId: string): Promise<Submitted<PaymentRow>> {
  const invoice = await ownInvoice(app, userId, id);
  if (invoice.status !== 'parsed' || !invoice.amount_due_minor || !invoice.payment_reference) {
    throw problems.conflict('This invoice was not read (unparsed): its amount and reference are unknown, so it cannot be paid here.');
  }
  if (!invoice.biller_id) throw problems.conflict(`${invoice.issuer ?? 'The issuer'} is not a biller finflow pays; pay this invoice with its payment reference at your bank.`);
  // Asked again after the payment ended: that payment, whatever became of the biller
  // since. One still processing goes through payBillFor as a repeat, which starts its
  // workflow should the API process that recorded it have died before starting it.
  const earlier: PaymentRow | undefined = await app.deps.db('payments').where({ workflow_id: workflowIds.payment(userId, workflowIds.invoicePaymentKey(id)), from_account_id: fromAccountId }).first();
  if (earlier && earlier.status !== 'processing') return { row: earlier, fresh: false };
  const submitted = await payBillFor(app, userId, workflowIds.invoicePaymentKey(id), {
    billerId: invoice.biller_id,
    customerRef: invoice.payment_reference,
    amount: invoice.amount_due_minor,
    fromAccountId,
  });
  await app.deps.db('invoices').where({ id }).whereNull('payment_id').update({ payment_id: submitted.row.id });
  return submitted;
}
