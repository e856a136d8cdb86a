import type { Knex } from 'knex';
import { CARD_STATUSES, type CardFileCounters } from '../../workflows/cards/contract';
import type { CardEvent } from './rows';

/**
 * Commits one batch of a partner file in one transaction: the file's progress moves from
 * the offset the batch read from to the one after its last row, cards are upserted,
 * events appended (an event already recorded is skipped by the unique key), rejected
 * rows kept, and the touched cards' statuses recomputed from their events. The progress
 * update comes first and is conditional on the old offset: a retried attempt of a batch
 * that did commit (the worker died before reporting it) finds the offset moved and
 * writes nothing, so no row is counted twice.
 */

export interface BatchRow {
  line: number;
  event: CardEvent;
}

export interface BatchReject {
  line: number;
  /** The raw row, already redacted of card numbers. */
  raw: string;
  reason: string;
}

export interface Batch {
  fileId: string;
  partner: string;
  fromOffset: number;
  toOffset: number;
  linesDone: number;
  rows: number;
  accepted: BatchRow[];
  rejects: BatchReject[];
}

/** Card ids sorted, so concurrent batches lock cards in one order and cannot deadlock. */
function latestPhonePerCard(rows: BatchRow[]): Array<{ cardId: string; phone: string; at: Date; status: string }> {
  const latest = new Map<string, CardEvent>();
  for (const { event } of rows) {
    const seen = latest.get(event.cardId);
    if (!seen || event.eventAt >= seen.eventAt) latest.set(event.cardId, event);
  }
  return [...latest.values()].sort((a, b) => (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0)).map((e) => ({ cardId: e.cardId, phone: e.phoneE164, at: e.eventAt, status: e.status }));
}

/** Returns the batch's counters, or undefined when another attempt committed it already. */
export async function commitBatch(db: Knex, batch: Batch): Promise<CardFileCounters | undefined> {
  return db.transaction(async (trx) => {
    const moved = await trx.raw<{ rowCount: number }>(
      `update card_files set next_offset = ?, lines_done = ? where id = ? and next_offset = ? and status = 'processing'`,
      [batch.toOffset, batch.linesDone, batch.fileId, batch.fromOffset],
    );
    if (moved.rowCount === 0) return undefined;
    const cards = latestPhonePerCard(batch.accepted);
    let inserted = 0;
    if (cards.length > 0) {
      await trx.raw(
        `insert into cards (card_id, phone_e164, phone_seen_at, status, status_at)
         select * from unnest(?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::timestamptz[])
         on conflict (card_id) do update set
           phone_e164 = case when excluded.phone_seen_at >= cards.phone_seen_at then excluded.phone_e164 else cards.phone_e164 end,
           phone_seen_at = greatest(cards.phone_seen_at, excluded.phone_seen_at)`,
        [cards.map((c) => c.cardId), cards.map((c) => c.phone), cards.map((c) => c.at), cards.map((c) => c.status), cards.map((c) => c.at)],
      );
      const rows = batch.accepted;
      const result = await trx.raw<{ rows: Array<{ card_id: string }> }>(
        `insert into card_events (card_id, status, event_at, partner, file_id, line_no, comment)
         select card_id, status, event_at, ?, ?, line_no, comment
           from unnest(?::text[], ?::text[], ?::timestamptz[], ?::integer[], ?::text[]) as t(card_id, status, event_at, line_no, comment)
         on conflict (card_id, status, event_at, partner) do nothing
         returning card_id`,
        [batch.partner, batch.fileId, rows.map((r) => r.event.cardId), rows.map((r) => r.event.status), rows.map((r) => r.event.eventAt), rows.map((r) => r.line), rows.map((r) => r.event.comment) as string[]],
      );
      inserted = result.rows.length;
      if (inserted > 0) await recomputeStatuses(trx, [...new Set(result.rows.map((r) => r.card_id))].sort());
    }
    if (batch.rejects.length > 0) {
      await trx.raw(
        `insert into card_file_rejects (file_id, line_no, raw, reason)
         select ?, * from unnest(?::integer[], ?::text[], ?::text[])
         on conflict do nothing`,
        [batch.fileId, batch.rejects.map((r) => r.line), batch.rejects.map((r) => r.raw), batch.rejects.map((r) => r.reason)],
      );
    }
    const counters: CardFileCounters = { rows: batch.rows, accepted: inserted, rejected: batch.rejects.length, duplicates: batch.accepted.length - inserted };
    await trx.raw(`update card_files set rows_total = rows_total + ?, accepted = accepted + ?, rejected = rejected + ?, duplicates = duplicates + ? where id = ?`, [
      counters.rows,
      counters.accepted,
      counters.rejected,
      counters.duplicates,
      batch.fileId,
    ]);
    return counters;
  });
}

/**
 * A card's status is its latest event's by event time (on a tie, the later status in
 * CARD_STATUSES' order), so an event that arrives late but happened earlier changes
 * nothing: a `delivered` followed by an older `in_transit` stays `delivered`.
 */
async function recomputeStatuses(trx: Knex.Transaction, cardIds: string[]): Promise<void> {
  await trx.raw(
    `update cards c set status = latest.status, status_at = latest.event_at, updated_at = now()
       from (select distinct on (card_id) card_id, status, event_at
               from card_events where card_id = any(?::text[])
              order by card_id, event_at desc, array_position(?::text[], status) desc) latest
      where c.card_id = latest.card_id and (c.status, c.status_at) is distinct from (latest.status, latest.event_at)`,
    [cardIds, [...CARD_STATUSES]],
  );
}
