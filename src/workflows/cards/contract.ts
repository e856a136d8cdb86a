/**
 * What the cards line's workflows take and answer (docs/cards.md): the only workflow
 * module the API and the activities import. Nothing here carries a row of a partner
 * file: workflows see file ids and counters, so no card number or phone can reach a
 * workflow history.
 */

/** finflow's delivery statuses, in the order a card normally moves through them. */
export const CARD_STATUSES = ['created', 'dispatched', 'in_transit', 'delivery_attempted', 'delivery_exception', 'delivered', 'returned', 'destroyed'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

export type CardFileStatus = 'received' | 'processing' | 'completed' | 'rejected';

/** What a batch, or a whole file, did. */
export interface CardFileCounters {
  /** Data rows read (header excluded). */
  rows: number;
  /** Rows that parsed and whose event was new. */
  accepted: number;
  rejected: number;
  /** Rows that parsed but whose event (card, status, time, partner) was already recorded. */
  duplicates: number;
}

export interface IngestCardFileInput {
  /** The SHA-256 of the file's bytes (hex): the card_files row and the workflow id. */
  fileId: string;
  /** Batches run by earlier runs of this workflow (continue-as-new carries it on). */
  batchesDone?: number;
}

export interface IngestCardFileResult {
  fileId: string;
  status: Extract<CardFileStatus, 'completed' | 'rejected'>;
  reason: string | null;
  counters: CardFileCounters;
}

export type IngestCardFileWorkflow = (input: IngestCardFileInput) => Promise<IngestCardFileResult>;

export interface PickUpCardFilesInput {
  /** The object-storage prefix partners drop files under: `<prefix><partner>/<name>`. */
  prefix: string;
}

export interface PickUpCardFilesResult {
  /** New objects seen this run. */
  found: number;
  /** Ingestions started (a file already ingested under another name starts none). */
  started: number;
}

export type PickUpCardFilesWorkflow = (input: PickUpCardFilesInput) => Promise<PickUpCardFilesResult>;
