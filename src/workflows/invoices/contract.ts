/**
 * What the invoices line's workflows take and answer (docs/invoices.md): mailbox
 * ingestion, the weekday Schedule's starter and re-parsing. The only workflow
 * module the API and the activities import.
 */

export interface IngestMailboxInput {
  userId: string;
  /** The `invoice_ingestions` row that shows progress; the API creates it, a scheduled run has the workflow create it. */
  ingestionId: string;
  trigger: 'request' | 'schedule';
  /** Batches done by earlier runs of this execution chain (continue-as-new). */
  batchesBefore?: number;
}

export interface IngestMailboxResult {
  ingestionId: string;
  status: 'completed' | 'failed';
  batches: number;
  noticesSent: number;
  reason?: string;
}

export type IngestMailboxWorkflow = (input: IngestMailboxInput) => Promise<IngestMailboxResult>;

export interface ScheduledIngestionInput {
  userId: string;
}

export type ScheduledIngestionWorkflow = (input: ScheduledIngestionInput) => Promise<{ started: boolean }>;

export interface ReparseInvoicesInput {
  /** Re-parse continues after this invoice id (continue-as-new). */
  afterId?: string;
  reparsedBefore?: number;
}

export interface ReparseInvoicesResult {
  examined: number;
  parsed: number;
}

export type ReparseInvoicesWorkflow = (input: ReparseInvoicesInput) => Promise<ReparseInvoicesResult>;
