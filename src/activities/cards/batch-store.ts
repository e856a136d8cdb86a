import type { Client } from 'pg';
import type { Db } from '../../db/knex';
import { CARD_STATUSES, type CardFileCounters } from '../../workflows/cards/contract';
import { copyInto, copyValue, mergeOverlapped, type CopyRows } from '../shared/copy-batches';
import type { CardEvent } from './rows';

/**
 * Commits one batch of a partner file in one transaction (docs/cards.md, "Batches that
 * commit their progress"). The file's row is locked first, on the condition that its
 * offset is still the one the batch reads from: a retried attempt of a batch that did
 * commit (the worker died before reporting it) finds the offset moved and writes
 * nothing, and two attempts running at once queue on the lock, so no row is counted
 * twice. The rows then arrive in chunks; each chunk is copied into a temporary table
 * and merged from there with two set-based statements (cards upserted and moved on to
 * their latest event, events appended unless already recorded), while the reader
 * parses the next chunk. Rejected rows are kept; the new offset and the counters are
 * written last.
 */

export interface BatchReject {
  line: number;
  /** The raw row, already redacted of card numbers. */
  raw: string;
  reason: string;
}

/** Up to a chunk's worth of rows, read and normalised: accepted rows as COPY text, refused ones with their reasons. */
export interface Chunk {
  /**
   * The accepted rows. The reader reuses the buffers of chunks merged already: a chunk's
   * rows stay intact until the chunk after the next one is asked for.
   */
  copyRows: CopyRows;
  accepted: number;
  rejects: BatchReject[];
  /** Data rows read, accepted or not. */
  rows: number;
  /** Where the file's next unread row starts after this chunk, and its lines done. */
  toOffset: number;
  linesDone: number;
}

export interface BatchStart {
  fileId: string;
  partner: string;
  fromOffset: number;
}

/** The temporary table a chunk is copied into; it goes with the transaction. */
const STAGING = `create temporary table card_batch (
  card_id text not null, phone_e164 text not null, status text not null, event_at timestamptz not null, line_no integer not null, comment text
) on commit drop`;

/** A status's place in CARD_STATUSES breaks ties between events of one instant. */
const RANK = (column: string) => `array_position($1::text[], ${column})`;

/** Whether the chunk's latest event for a known card is later than the card's status. */
const LATER = `(excluded.status_at, ${RANK('excluded.status')}) > (c.status_at, ${RANK('c.status')})`;

/**
 * The chunk's cards, each with the latest of its events in the chunk (by event time; on
 * a tie, the later status in CARD_STATUSES). A new card takes that event's status and
 * phone. A known card moves to it only when it is later than the card's status, and
 * takes its phone only when it is not older than the phone the card has: a card's
 * status is always its latest event, so an event that arrives late but happened earlier
 * changes nothing (a `delivered` followed by an older `in_transit` stays `delivered`).
 * An event of the chunk already recorded cannot move a card, since the card's status
 * already counts it, so no event needs to be known as new before this runs. Rows come
 * in card id order, so concurrent batches lock cards in one order and cannot deadlock.
 */
const UPSERT_CARDS = `
  insert into cards as c (card_id, phone_e164, phone_seen_at, status, status_at)
  select distinct on (card_id) card_id, phone_e164, event_at, status, event_at
    from card_batch
   order by card_id, event_at desc, ${RANK('status')} desc
  on conflict (card_id) do update set
    phone_e164 = case when excluded.phone_seen_at >= c.phone_seen_at then excluded.phone_e164 else c.phone_e164 end,
    phone_seen_at = greatest(excluded.phone_seen_at, c.phone_seen_at),
    status = case when ${LATER} then excluded.status else c.status end,
    status_at = case when ${LATER} then excluded.status_at else c.status_at end,
    updated_at = case when ${LATER} then now() else c.updated_at end
   where excluded.phone_seen_at > c.phone_seen_at or (excluded.phone_seen_at = c.phone_seen_at and excluded.phone_e164 <> c.phone_e164) or ${LATER}`;

/** Appends the chunk's events; one already recorded (same card, status, time and partner) is skipped by the unique key. */
const APPEND_EVENTS = `
  with inserted as (
    insert into card_events (card_id, status, event_at, partner, file_id, line_no, comment)
    select card_id, status, event_at, $1, $2, line_no, comment from card_batch
    on conflict (card_id, status, event_at, partner) do nothing
    returning 1
  )
  select count(*)::integer as inserted from inserted`;

const KEEP_REJECTS = `
  insert into card_file_rejects (file_id, line_no, raw, reason)
  select $1, * from unnest($2::integer[], $3::text[], $4::text[])
  on conflict do nothing`;

/** One accepted row as a line of the staging table's COPY input. */
export function copyLine(event: CardEvent, line: number): string {
  return `${copyValue(event.cardId)}\t${event.phoneE164}\t${event.status}\t${event.eventAt}\t${line}\t${copyValue(event.comment)}\n`;
}

async function mergeChunk(client: Client, start: BatchStart, chunk: Chunk): Promise<number> {
  if (chunk.rejects.length > 0) {
    const { rejects } = chunk;
    await client.query(KEEP_REJECTS, [start.fileId, rejects.map((r) => r.line), rejects.map((r) => r.raw), rejects.map((r) => r.reason)]);
  }
  if (chunk.accepted === 0) return 0;
  await client.query('truncate card_batch');
  await copyInto(client, 'card_batch', chunk.copyRows);
  await client.query(UPSERT_CARDS, [CARD_STATUSES]);
  const { rows } = await client.query<{ inserted: number }>(APPEND_EVENTS, [start.partner, start.fileId]);
  return rows[0]?.inserted ?? 0;
}

/**
 * Merges the chunks `read` yields, reading the next while the last one is merged.
 * Returns the batch's counters, or undefined when another attempt committed it already.
 */
export async function commitBatch(db: Db, start: BatchStart, read: () => AsyncGenerator<Chunk>): Promise<CardFileCounters | undefined> {
  const client = (await db.client.acquireConnection()) as Client;
  try {
    await client.query('begin');
    const locked = await client.query(`select 1 from card_files where id = $1 and next_offset = $2 and status = 'processing' for update`, [start.fileId, start.fromOffset]);
    if (locked.rowCount === 0) {
      await client.query('rollback');
      return undefined;
    }
    await client.query(STAGING);
    const counters: CardFileCounters = { rows: 0, accepted: 0, rejected: 0, duplicates: 0 };
    let end = { toOffset: start.fromOffset, linesDone: 0 };
    await mergeOverlapped(read(), async (chunk) => {
      const inserted = await mergeChunk(client, start, chunk);
      counters.rows += chunk.rows;
      counters.accepted += inserted;
      counters.rejected += chunk.rejects.length;
      counters.duplicates += chunk.accepted - inserted;
      end = chunk;
    });
    await client.query(
      `update card_files set next_offset = $2, lines_done = $3, rows_total = rows_total + $4, accepted = accepted + $5, rejected = rejected + $6, duplicates = duplicates + $7 where id = $1`,
      [start.fileId, end.toOffset, end.linesDone, counters.rows, counters.accepted, counters.rejected, counters.duplicates],
    );
    await client.query('commit');
    return counters;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await db.client.releaseConnection(client);
  }
}
