import type { Db } from '../../db/knex';
import { formatMoney } from '../../money/money';
import type { MailboxPort } from '../../providers/mailbox/port';
import type { SecretBox } from '../../providers/mailbox/secret-box';
import type { Notifier } from '../../providers/notifier';
import type { ObjectStorage } from '../../providers/storage/port';
import { businessFailure } from '../../temporal/failures';
import { dedupeKeys } from '../../temporal/names';
import { createIngestion, invoiceColumns, type IngestBatchInput, type IngestBatchResult, type Ingestion, type IngestionLimits } from './ingest';
import type { InvoiceReader } from './reading';

/**
 * The invoices line's activities (docs/invoices.md): ingestion batches, progress rows,
 * the email and SMS notice of each parsed invoice (once, by dedupe key), and the
 * re-parse of unparsed invoices with the templates as they are now.
 */

export interface InvoiceActivityDeps {
  db: Db;
  notifier: Notifier;
  now: () => Date;
  /** The invoice ports (built by createPorts); a worker built without them refuses invoice work. */
  storage?: ObjectStorage;
  mailbox?: MailboxPort;
  secrets?: SecretBox;
  invoiceReader?: InvoiceReader;
  invoiceLimits?: IngestionLimits;
}

function invoicePorts(deps: InvoiceActivityDeps) {
  const { storage, mailbox, secrets, invoiceReader: reader, invoiceLimits: limits } = deps;
  if (!storage || !mailbox || !secrets || !reader || !limits) throw new Error('invoice activities need storage, mailbox, secrets, invoiceReader and invoiceLimits (createPorts builds them)');
  return { db: deps.db, now: deps.now, storage, mailbox, secrets, reader, limits };
}

export interface InvoiceNoticeResult {
  email: boolean;
  sms: boolean;
}

interface InvoiceNoticeRow {
  user_id: string;
  issuer: string;
  amount_due_minor: string;
  currency: string;
  due_date: Date;
  invoice_number: string;
  email: string;
  phone: string;
}

/** Unparsed invoices read again per activity: each is a PDF download and a pdf.js pass. */
export const REPARSE_BATCH = 25;

export function createInvoiceActivities(deps: InvoiceActivityDeps) {
  const { db } = deps;
  let ingestion: Ingestion | undefined;

  return {
    ingestMailboxBatch: (input: IngestBatchInput): Promise<IngestBatchResult> => (ingestion ??= createIngestion(invoicePorts(deps))).ingestMailboxBatch(input),

    /** A scheduled run's progress row (a requested run's row is made by the API). Idempotent by id. */
    async beginIngestion({ userId, ingestionId, trigger }: { userId: string; ingestionId: string; trigger: 'request' | 'schedule' }): Promise<void> {
      await db('invoice_ingestions').insert({ id: ingestionId, user_id: userId, status: 'processing', trigger }).onConflict('id').ignore();
    },

    async finishIngestion({ ingestionId, status, reason }: { ingestionId: string; status: 'completed' | 'failed'; reason?: string }): Promise<void> {
      await db('invoice_ingestions')
        .where({ id: ingestionId })
        .update({ status, finished_at: deps.now(), ...(reason ? { last_error: reason } : {}) });
    },

    /** One email and one SMS with issuer, amount and due date; each claimed under its dedupe key, so retries send nothing twice. */
    async sendInvoiceNotice({ invoiceId }: { invoiceId: string }): Promise<InvoiceNoticeResult> {
      const row: InvoiceNoticeRow | undefined = await db('invoices as i')
        .join('users as u', 'u.id', 'i.user_id')
        .where('i.id', invoiceId)
        .first('i.user_id', 'i.issuer', 'i.amount_due_minor', 'i.currency', 'i.due_date', 'i.invoice_number', 'u.email', 'u.phone');
      if (!row) throw businessFailure('invoice_not_found', `invoice ${invoiceId} does not exist`);
      const amount = formatMoney(BigInt(row.amount_due_minor), row.currency);
      const due = isoDate(row.due_date);
      const body = `New invoice from ${row.issuer}: ${amount} due ${due} (invoice ${row.invoice_number}). Pay it in finflow.`;
      const base = { userId: row.user_id, template: 'invoice_received', body };
      const email = await deps.notifier.send({ ...base, dedupeKey: dedupeKeys.invoiceNotice(invoiceId, 'email'), channel: 'email', recipient: row.email });
      const sms = await deps.notifier.send({ ...base, dedupeKey: dedupeKeys.invoiceNotice(invoiceId, 'sms'), channel: 'sms', recipient: row.phone });
      await db('invoices').where({ id: invoiceId }).whereNull('noticed_at').update({ noticed_at: deps.now() });
      return { email: email.fresh, sms: sms.fresh };
    },

    /**
     * Reads the next unparsed invoices again with the templates as they are on disk now.
     * Those that parse now are marked with this re-parse's id and returned, for their notices.
     */
    async reparseInvoiceBatch({ afterId, reparseId }: { afterId?: string; reparseId: string }): Promise<{ examined: number; lastId?: string; parsed: string[] }> {
      const { reader, storage } = invoicePorts(deps);
      await reader.reload();
      const query = db('invoices').where({ status: 'unparsed' }).orderBy('id').limit(REPARSE_BATCH);
      if (afterId) query.where('id', '>', afterId);
      const rows: Array<{ id: string; object_key: string }> = await query.select('id', 'object_key');
      const parsed: string[] = [];
      for (const row of rows) {
        const reading = await reader.read(await storage.get(row.object_key));
        if (reading.status !== 'parsed') {
          await db('invoices').where({ id: row.id }).update({ unparsed_reason: reading.reason, template_id: reading.templateId ?? null });
          continue;
        }
        await db('invoices').where({ id: row.id, status: 'unparsed' }).update({ ...invoiceColumns(reading, deps.now()), ingestion_id: reparseId });
        parsed.push(row.id);
      }
      return { examined: rows.length, lastId: rows[rows.length - 1]?.id, parsed };
    },
  };
}

const isoDate = (value: Date | string) => (typeof value === 'string' ? value.slice(0, 10) : new Date(Date.UTC(value.getFullYear(), value.getMonth(), value.getDate())).toISOString().slice(0, 10));
