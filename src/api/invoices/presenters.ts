import type { IngestionRow, InvoiceRow } from './service';

/** Exactly the fields of an invoice and of an ingestion that leave the server (never the object key). */

export function presentInvoice(row: InvoiceRow) {
  return {
    id: row.id,
    status: row.status,
    unparsedReason: row.unparsed_reason,
    issuer: row.issuer,
    invoiceNumber: row.invoice_number,
    amountDue: row.amount_due_minor === null ? null : String(row.amount_due_minor),
    currency: row.currency,
    dueDate: row.due_date,
    paymentReference: row.payment_reference,
    period: row.period,
    lineItems: row.line_items.map((l) => ({ name: l.name, amount: l.amountMinor })),
    billerId: row.biller_id,
    paymentId: row.payment_id,
    filename: row.filename,
    receivedAt: row.created_at.toISOString(),
  };
}

export function presentIngestion(row: IngestionRow) {
  return {
    id: row.id,
    status: row.status,
    trigger: row.trigger,
    messagesRead: row.messages_read,
    invoicesStored: row.invoices_stored,
    duplicates: row.duplicates,
    parsed: row.parsed,
    unparsed: row.unparsed,
    skipped: row.skipped,
    rescans: row.rescans,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}
