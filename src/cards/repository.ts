import type { Db } from '../db/knex';
import type { CardFileStatus, CardStatus } from '../workflows/cards/contract';

/**
 * The cards line's rows, read by the API and the activities (docs/cards.md): partner
 * files with their progress, cards with their current status, and their events.
 */

export interface CardFileRow {
  id: string;
  partner: string;
  object_key: string;
  source: 'upload' | 'pickup';
  size_bytes: string;
  status: CardFileStatus;
  reason: string | null;
  columns: Record<string, number> | null;
  next_offset: string;
  lines_done: number;
  rows_total: string;
  accepted: string;
  rejected: string;
  duplicates: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface NewCardFile {
  id: string;
  partner: string;
  objectKey: string;
  source: CardFileRow['source'];
  sizeBytes: number;
}

export function findCardFile(db: Db, id: string): Promise<CardFileRow | undefined> {
  return db<CardFileRow>('card_files').where({ id }).first();
}

/** Records a file once per content hash; false when that content was recorded before. */
export async function insertCardFile(db: Db, file: NewCardFile): Promise<boolean> {
  const inserted = await db('card_files')
    .insert({ id: file.id, partner: file.partner, object_key: file.objectKey, source: file.source, size_bytes: file.sizeBytes })
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

export interface CardRow {
  card_id: string;
  phone_e164: string;
  status: CardStatus;
  status_at: Date;
}

export interface CardEventRow {
  status: CardStatus;
  event_at: Date;
  partner: string;
  comment: string | null;
}

/** The card and its events, newest first, in one statement (an unknown card gives no rows). */
export async function findCardWithHistory(db: Db, cardId: string): Promise<{ card: CardRow; events: CardEventRow[] } | undefined> {
  const rows = await db.raw<{ rows: Array<CardRow & Partial<CardEventRow> & { event_status: CardStatus | null }> }>(
    `select c.card_id, c.phone_e164, c.status, c.status_at, e.status as event_status, e.event_at, e.partner, e.comment
       from cards c left join card_events e on e.card_id = c.card_id
      where c.card_id = ?
      order by e.event_at desc, e.id desc`,
    [cardId],
  );
  const first = rows.rows[0];
  if (!first) return undefined;
  const card: CardRow = { card_id: first.card_id, phone_e164: first.phone_e164, status: first.status, status_at: first.status_at };
  const events = rows.rows.flatMap((r) => (r.event_status && r.event_at && r.partner ? [{ status: r.event_status, event_at: r.event_at, partner: r.partner, comment: r.comment ?? null }] : []));
  return { card, events };
}
