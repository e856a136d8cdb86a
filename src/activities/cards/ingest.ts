import { parse, type Info, type Options as CsvOptions } from 'csv-parse';
import type { Readable } from 'node:stream';
import type { Db } from '../../db/knex';
import type { ObjectStorage } from '../../providers/storage/port';
import { findCardFile, type CardFileRow } from '../../cards/repository';
import type { CardFileCounters, IngestCardFileResult } from '../../workflows/cards/contract';
import { CopyRowsPair, isBlankLine, linesOf } from '../shared/copy-batches';
import { heartbeat } from '../shared/heartbeat';
import { commitBatch, copyLine, type Chunk } from './batch-store';
import { columnIndex, shippedLayouts, type ColumnIndex, type Layout } from './layouts';
import { redactPans } from './pan';
import { readRow, REJECT_REASONS, statusWords } from './rows';

/**
 * Ingesting one partner file (docs/cards.md): `prepareCardFile` checks the file can be
 * read at all (known layout, not empty, not binary, a header with the layout's columns,
 * at least one row) and records where its rows start; `ingestCardFileBatch` reads the
 * next batch of rows from the committed byte offset, streaming, and commits it with the
 * new offset; `finishCardFile` closes the file. Each returns counters, never rows.
 */

export interface CardActivityDeps {
  db: Db;
  storage?: ObjectStorage;
  now: () => Date;
  /** Rows per batch (CARD_FILE_BATCH_ROWS). */
  cardFileBatchRows?: number;
  /** Layouts by id; the shipped ones unless a test passes its own. */
  cardLayouts?: Map<string, Layout>;
}

/** Enough of a file's start to tell text from binary. */
const SNIFF_BYTES = 64 * 1024;
const DEFAULT_BATCH_ROWS = 50_000;

export type PrepareResult = { status: 'processing' } | { status: 'completed' | 'rejected'; reason: string | null };

interface ParsedRecord {
  record: string[];
  raw: string;
  info: Info;
}

function csvOptions(layout: Layout, fromStart: boolean): CsvOptions {
  return {
    delimiter: layout.delimiter,
    encoding: layout.encoding,
    bom: fromStart,
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
  };
}

/** True when the bytes cannot be text in the layout's encoding (NUL bytes, or invalid UTF-8). */
function looksBinary(head: Buffer, encoding: Layout['encoding'], complete: boolean): boolean {
  if (head.includes(0)) return true;
  if (encoding !== 'utf8') return false;
  // A cut multi-byte character at the sniff's end is not an error: drop up to 3 bytes.
  const sample = complete ? head : head.subarray(0, Math.max(0, head.length - 3));
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return false;
  } catch {
    return true;
  }
}

async function readHead(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= bytes) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** The first `count` records of a stream (fewer at its end); the stream is closed after. */
async function firstRecords(stream: Readable, options: CsvOptions, count: number): Promise<ParsedRecord[]> {
  const parser = stream.pipe(parse(options));
  stream.once('error', (err) => parser.destroy(err));
  const records: ParsedRecord[] = [];
  try {
    for await (const parsed of parser) {
      records.push(parsed as ParsedRecord);
      if (records.length >= count) break;
    }
  } finally {
    stream.destroy();
  }
  return records;
}

export function createCardActivities(deps: CardActivityDeps) {
  const { db } = deps;
  const layouts = () => deps.cardLayouts ?? shippedLayouts();
  const storage = (): ObjectStorage => {
    if (!deps.storage) throw new Error('the cards activities need object storage (S3_*)');
    return deps.storage;
  };
  const fileOf = async (fileId: string): Promise<CardFileRow> => {
    const file = await findCardFile(db, fileId);
    if (!file) throw new Error(`no card file ${fileId}`);
    return file;
  };
  const reject = async (fileId: string, reason: string): Promise<PrepareResult> => {
    await db('card_files').where({ id: fileId }).update({ status: 'rejected', reason, finished_at: deps.now() });
    return { status: 'rejected', reason };
  };

  return {
    /** Checks the file and records where its rows start; a file that cannot be read is `rejected` with the reason. */
    async prepareCardFile(fileId: string): Promise<PrepareResult> {
      const file = await fileOf(fileId);
      if (file.status === 'completed' || file.status === 'rejected') return { status: file.status, reason: file.reason };
      if (file.status === 'processing') return { status: 'processing' };
      const layout = layouts().get(file.partner);
      if (!layout) return reject(fileId, `unknown layout "${file.partner}"`);
      if (Number(file.size_bytes) === 0) return reject(fileId, 'the file is empty');
      const head = await readHead(await storage().getStream(file.object_key), SNIFF_BYTES);
      if (looksBinary(head, layout.encoding, head.length >= Number(file.size_bytes))) return reject(fileId, 'the file is binary, not CSV text');
      let records: ParsedRecord[];
      try {
        records = await firstRecords(await storage().getStream(file.object_key), csvOptions(layout, true), 2);
      } catch (err) {
        return reject(fileId, `the file is not CSV: ${(err as Error).message}`);
      }
      let columns: ColumnIndex;
      let start = { offset: 0, lines: 0 };
      if (layout.header) {
        const [header, firstRow] = records;
        if (!header) return reject(fileId, 'the file is empty');
        try {
          columns = columnIndex(layout, header.record);
        } catch (err) {
          return reject(fileId, `${(err as Error).message} (layout ${layout.id})`);
        }
        if (!firstRow) return reject(fileId, 'the file has a header row and no rows');
        start = { offset: header.info.bytes, lines: linesOf(header.raw) };
      } else {
        columns = columnIndex(layout, undefined);
        if (records.length === 0) return reject(fileId, 'the file is empty');
      }
      await db('card_files')
        .where({ id: fileId, status: 'received' })
        .update({ status: 'processing', columns: JSON.stringify(columns), next_offset: start.offset, lines_done: start.lines, started_at: deps.now() });
      return { status: 'processing' };
    },

    /** Reads and commits the next batch of rows; `done` once the file's end is reached. */
    async ingestCardFileBatch(fileId: string): Promise<CardFileCounters & { done: boolean }> {
      const file = await fileOf(fileId);
      const layout = layouts().get(file.partner);
      if (file.status !== 'processing' || !layout || !file.columns) return { rows: 0, accepted: 0, rejected: 0, duplicates: 0, done: true };
      const fromOffset = Number(file.next_offset);
      if (fromOffset >= Number(file.size_bytes)) return { rows: 0, accepted: 0, rejected: 0, duplicates: 0, done: true };
      const maxRows = deps.cardFileBatchRows ?? DEFAULT_BATCH_ROWS;
      let toOffset = fromOffset;
      const counters = await commitBatch(db, { fileId, partner: file.partner, fromOffset }, async function* () {
        for await (const chunk of readChunks(await storage().getStream(file.object_key, fromOffset), layout, file, maxRows)) {
          toOffset = chunk.toOffset;
          heartbeat();
          yield chunk;
        }
      });
      // Another attempt committed this batch: nothing to count; the next call reads on from its offset.
      if (!counters) return { rows: 0, accepted: 0, rejected: 0, duplicates: 0, done: false };
      return { ...counters, done: toOffset >= Number(file.size_bytes) };
    },

    /** Marks the file completed and answers its totals. */
    async finishCardFile(fileId: string): Promise<IngestCardFileResult> {
      await db('card_files').where({ id: fileId, status: 'processing' }).update({ status: 'completed', finished_at: deps.now() });
      const file = await fileOf(fileId);
      return {
        fileId,
        status: file.status === 'rejected' ? 'rejected' : 'completed',
        reason: file.reason,
        counters: { rows: Number(file.rows_total), accepted: Number(file.accepted), rejected: Number(file.rejected), duplicates: Number(file.duplicates) },
      };
    },
  };
}

/** Rows per chunk: a batch is copied and merged a chunk at a time while the next chunk is parsed. */
const CHUNK_ROWS = 5000;

/**
 * Parses up to `maxRows` records from `stream` (which starts at the file's committed
 * offset) and yields them a chunk at a time, never holding more than a chunk: accepted
 * rows as COPY text, rejected ones with their reasons. The last chunk yielded (maybe
 * empty) carries where the batch ends: after its last row, or the file's end. Line
 * numbers are the file's: the parser counts lines from the offset, so the lines already
 * done are added.
 *
 * A record csv-parse cannot read is reported by its `skip` event when the parser meets
 * it, which may be ahead of the records read so far; it is kept in a queue with the
 * number of good records before it and counted in its place, so a batch that stops
 * early leaves it for the next batch.
 */
async function* readChunks(stream: Readable, layout: Layout, file: CardFileRow, maxRows: number): AsyncGenerator<Chunk> {
  const fromOffset = Number(file.next_offset);
  const columns = file.columns as ColumnIndex;
  const words = statusWords(layout);
  const times = new Map<string, string | undefined>();
  // Blank lines come through as records, so that they count as lines of the file (skipped, their lines would not).
  const parser = stream.pipe(parse({ ...csvOptions(layout, fromOffset === 0), skip_empty_lines: false, skip_records_with_error: true }));
  stream.once('error', (err) => parser.destroy(err));
  const skipped: Array<{ goodBefore: number; message: string }> = [];
  parser.on('skip', (err: Error) => skipped.push({ goodBefore: parser.info.records, message: err.message }));
  // Two buffers in turn: one being merged while the other fills (see Chunk.copyRows).
  const buffers = new CopyRowsPair();
  const nextChunk = (at: { toOffset: number; linesDone: number }): Chunk => ({ copyRows: buffers.next(), accepted: 0, rejects: [], rows: 0, toOffset: at.toOffset, linesDone: at.linesDone });
  let chunk = nextChunk({ toOffset: fromOffset, linesDone: file.lines_done });
  let rows = 0;
  let good = 0;
  const countSkipped = (upTo: number) => {
    while (skipped.length > 0 && (skipped[0] as { goodBefore: number }).goodBefore < upTo) {
      const { message } = skipped.shift() as { message: string };
      rows += 1;
      chunk.rows += 1;
      chunk.linesDone += 1;
      chunk.rejects.push({ line: chunk.linesDone, raw: '', reason: `the row is not valid CSV: ${redactPans(message)}` });
    }
  };
  let atEnd = true;
  try {
    for await (const parsed of parser) {
      const { record, raw, info } = parsed as ParsedRecord;
      good += 1;
      countSkipped(good);
      if (isBlankLine(raw)) {
        chunk.linesDone += linesOf(raw);
        chunk.toOffset = fromOffset + info.bytes;
        continue;
      }
      const line = chunk.linesDone + 1;
      chunk.linesDone += linesOf(raw);
      chunk.rows += 1;
      rows += 1;
      const outcome = readRow(record, columns, layout, words, times);
      if (outcome.ok) {
        chunk.copyRows.add(copyLine(outcome.event, line));
        chunk.accepted += 1;
      } else chunk.rejects.push({ line, raw: redactPans(raw.replace(/\r?\n$/, '')), reason: REJECT_REASONS[outcome.reason] });
      chunk.toOffset = fromOffset + info.bytes;
      if (rows >= maxRows) {
        atEnd = false;
        break;
      }
      if (chunk.rows >= CHUNK_ROWS) {
        yield chunk;
        chunk = nextChunk(chunk);
      }
    }
  } finally {
    stream.destroy();
  }
  if (atEnd) {
    countSkipped(Infinity);
    chunk.toOffset = Number(file.size_bytes);
  }
  yield chunk;
}
