import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { CsvError, parse, type Info, type Options as CsvOptions } from 'csv-parse';
import type { Client } from 'pg';
import type { Db } from '../../db/knex';
import { CHANNELS, CONSENT_STATUSES, contactColumns, ON_PHONE_CONFLICT, type ContactInput } from '../../campaigns/contacts';
import type { ObjectStorage } from '../../providers/storage/port';
import type { ContactImportResult } from '../../workflows/campaigns/contract';
import { copyInto, CopyRowsPair, copyValue, isBlankLine, linesOf, mergeOverlapped, type CopyRows } from '../shared/copy-batches';

/**
 * A contacts CSV import (docs/campaigns.md, "Import"). The file (in object storage, or
 * inline in the import row) is read as a stream from the byte offset the last committed
 * batch left, IMPORT_BATCH_ROWS records at a time; each batch is COPYed into a temporary
 * table and merged by phone in one set-based statement, in a transaction that also
 * stores its rejected rows (line and reason), the counters and the new offset — while
 * the next batch is parsed. A retried attempt (the worker died, the heartbeat timed out)
 * reads on from the offset in the database, so nothing is counted twice and at most one
 * batch is read again. Memory is two batches, at any file size.
 */

export const IMPORT_BATCH_ROWS = 5000;
const PHONE_COLUMNS = ['phone', 'phone_number', 'mobile'];

/** `\u0000` in serialised JSON, not preceded by an escaped backslash (`\\u0000` is text). */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

type Parsed = { ok: true; row: Record<string, unknown> } | { ok: false; reason: string };

/** One CSV record as a contact's columns, or why it cannot be one. */
export function parseImportRow(record: Record<string, string>, at: Date): Parsed {
  const phoneColumn = PHONE_COLUMNS.find((c) => record[c] !== undefined && record[c] !== '');
  if (!phoneColumn) return { ok: false, reason: 'phone: no phone, phone_number or mobile value' };
  const input: ContactInput = { phone: record[phoneColumn] as string };
  if (record.timezone) input.timezone = record.timezone;
  for (const column of ['attributes', 'consent'] as const) {
    const text = record[column];
    if (!text) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, reason: `${column}: not JSON` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: `${column}: not a JSON object` };
    if (column === 'attributes') input.attributes = value as Record<string, unknown>;
    else {
      const consent: ContactInput['consent'] = {};
      for (const [channel, given] of Object.entries(value as Record<string, unknown>)) {
        const status = typeof given === 'object' && given !== null ? (given as { status?: unknown }).status : given;
        if (!(CHANNELS as readonly string[]).includes(channel)) return { ok: false, reason: `consent: unknown channel ${channel}` };
        if (!(CONSENT_STATUSES as readonly unknown[]).includes(status)) return { ok: false, reason: `consent.${channel}: one of ${CONSENT_STATUSES.join(', ')}` };
        consent[channel as 'sms'] = { status: status as 'opt_in' };
      }
      input.consent = consent;
    }
  }
  const columns = contactColumns(input, 'import', at);
  if (!columns.ok) return { ok: false, reason: `${columns.field}: ${columns.reason}` };
  // PostgreSQL's jsonb cannot hold U+0000: such a row would fail its whole batch's COPY.
  if (ESCAPED_NUL.test(columns.row.attributes as string)) return { ok: false, reason: 'attributes: holds U+0000, which PostgreSQL cannot store' };
  return { ok: true, row: columns.row };
}

/** The staging table a batch is copied into; it goes with the transaction. */
const STAGING = `create temporary table contact_batch (
  phone text not null, attributes jsonb not null, timezone text not null,
  sms_consent text, sms_consent_source text, sms_consent_at timestamptz,
  whatsapp_consent text, whatsapp_consent_source text, whatsapp_consent_at timestamptz,
  line_no integer not null
) on commit drop`;

/**
 * The batch merged by phone: a phone the batch names twice takes its later row, as it
 * would in separate batches. Rows go in phone order, so concurrent imports lock contacts
 * in one order and cannot deadlock.
 */
const MERGE = `
  insert into contacts as c (phone, attributes, timezone, ${CHANNELS.map((ch) => `${ch}_consent, ${ch}_consent_source, ${ch}_consent_at`).join(', ')})
  select distinct on (phone) phone, attributes, timezone, ${CHANNELS.map((ch) => `coalesce(${ch}_consent, 'pending'), ${ch}_consent_source, ${ch}_consent_at`).join(', ')}
    from contact_batch
   order by phone, line_no desc
  ${ON_PHONE_CONFLICT}`;

const KEEP_REJECTS = `
  insert into contact_import_rejects (import_id, row_number, reason, raw)
  select $1, * from unnest($2::integer[], $3::text[], $4::text[])
  on conflict do nothing`;

/** One accepted row as a line of the staging table's COPY input. */
function copyLine(row: Record<string, unknown>, line: number): string {
  const at = (value: unknown) => (value instanceof Date ? value.toISOString() : null);
  const consent = CHANNELS.map((ch) => `${copyValue(row[`${ch}_consent`] as string | undefined)}\t${copyValue(row[`${ch}_consent_source`] as string | undefined)}\t${copyValue(at(row[`${ch}_consent_at`]))}`);
  return `${copyValue(row.phone as string)}\t${copyValue(row.attributes as string)}\t${copyValue(row.timezone as string)}\t${consent.join('\t')}\t${line}\n`;
}

interface Reject {
  line: number;
  reason: string;
  raw: string;
}

/** Up to a batch of records, read and checked: accepted rows as COPY text, refused ones with their reasons. */
interface Batch {
  copyRows: CopyRows;
  rejects: Reject[];
  /** Data rows read, accepted or not (blank lines are not rows). */
  rows: number;
  /** Where the file's next unread row starts after this batch, and the lines done. */
  toOffset: number;
  linesDone: number;
}

interface ImportRow {
  id: string;
  object_key: string | null;
  status: string;
  header: string[] | null;
  next_offset: string | null;
  lines_done: number;
  rows_seen: number;
  rows_imported: number;
  rows_rejected: number;
}

interface ParsedRecord<R> {
  record: R;
  raw: string;
  info: Info;
}

const csvOptions = (fromStart: boolean): CsvOptions => ({ bom: fromStart, info: true, raw: true, relax_column_count: true });

/** A CSV error is the file's fault: retrying cannot help, so it ends the import with the parser's reason. */
function asFailure(err: unknown): unknown {
  return err instanceof CsvError ? ApplicationFailure.nonRetryable(`the file is not valid CSV: ${err.message}`, 'CsvError') : err;
}

/**
 * Parses `stream` (which starts at the committed offset) and yields a batch at a time,
 * never holding more than one: the last batch yielded (maybe empty) ends at the file's end.
 * Line numbers are the file's: lines are counted from each record's raw text, blank lines
 * included, from the lines done before the offset.
 */
async function* readBatches(stream: Readable, job: { header: string[]; fromOffset: number; linesDone: number; sizeBytes: number }, batchRows: number, at: () => Date): AsyncGenerator<Batch> {
  const parser = stream.pipe(parse({ ...csvOptions(job.fromOffset === 0), columns: job.header, skip_empty_lines: false }));
  stream.once('error', (err) => parser.destroy(err));
  const buffers = new CopyRowsPair();
  const next = (from: { toOffset: number; linesDone: number }): Batch => ({ copyRows: buffers.next(), rejects: [], rows: 0, toOffset: from.toOffset, linesDone: from.linesDone });
  let batch = next({ toOffset: job.fromOffset, linesDone: job.linesDone });
  let now = at();
  try {
    for await (const parsed of parser) {
      const { record, raw, info } = parsed as ParsedRecord<Record<string, string>>;
      const line = batch.linesDone + 1;
      batch.linesDone += linesOf(raw);
      batch.toOffset = job.fromOffset + info.bytes;
      if (isBlankLine(raw)) continue;
      batch.rows += 1;
      const outcome = parseImportRow(record, now);
      if (outcome.ok) batch.copyRows.add(copyLine(outcome.row, line));
      else batch.rejects.push({ line, reason: outcome.reason, raw: raw.replace(/[\r\n]+$/, '').slice(0, 2000) });
      if (batch.rows >= batchRows) {
        yield batch;
        batch = next(batch);
        now = at();
      }
    }
  } catch (err) {
    throw asFailure(err);
  } finally {
    stream.destroy();
  }
  batch.toOffset = job.sizeBytes;
  yield batch;
}

/**
 * Commits one batch: the import's row is locked on the condition that its offset is still
 * the one the batch was read from, so an attempt running beside a newer one (its
 * heartbeat timed out) writes nothing and stops.
 */
async function commitBatch(client: Client, importId: string, fromOffset: number, batch: Batch): Promise<ImportRow> {
  await client.query('begin');
  try {
    const locked = await client.query(`select 1 from contact_imports where id = $1 and next_offset = $2 and status = 'processing' for update`, [importId, fromOffset]);
    if (locked.rowCount === 0) throw new Error(`contact import ${importId}: another attempt moved on from offset ${fromOffset}`);
    if (batch.copyRows.count > 0) {
      await client.query(STAGING);
      await copyInto(client, 'contact_batch', batch.copyRows);
      await client.query(MERGE);
    }
    const { rejects } = batch;
    if (rejects.length > 0) await client.query(KEEP_REJECTS, [importId, rejects.map((r) => r.line), rejects.map((r) => r.reason), rejects.map((r) => r.raw)]);
    const { rows } = await client.query<ImportRow>(
      `update contact_imports set next_offset = $2, lines_done = $3, rows_seen = rows_seen + $4, rows_imported = rows_imported + $5, rows_rejected = rows_rejected + $6
        where id = $1 returning id, status, next_offset, lines_done, rows_seen, rows_imported, rows_rejected`,
      [importId, batch.toOffset, batch.linesDone, batch.rows, batch.rows - rejects.length, rejects.length],
    );
    await client.query('commit');
    return rows[0] as ImportRow;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

const progressOf = (row: Pick<ImportRow, 'rows_seen' | 'rows_imported' | 'rows_rejected'>) => ({ rowsSeen: row.rows_seen, rowsImported: row.rows_imported, rowsRejected: row.rows_rejected });

export interface ContactImportDeps {
  db: Db;
  storage?: ObjectStorage;
  now: () => Date;
  /** Records per batch; IMPORT_BATCH_ROWS unless a test wants small batches. */
  importBatchRows?: number;
}

export function createContactImportActivities({ db, storage, now, importBatchRows = IMPORT_BATCH_ROWS }: ContactImportDeps) {
  /** The file from a byte offset, and its size: an S3 range read, or the inline CSV (at most 5 MB, as the API takes it). */
  async function openSource(job: ImportRow, from: number): Promise<{ stream: Readable; sizeBytes: number }> {
    if (job.object_key) {
      if (!storage) throw new Error('importContacts needs object storage for a file in the bucket');
      const head = await storage.head(job.object_key);
      if (!head) throw ApplicationFailure.nonRetryable(`no object ${job.object_key} in the bucket`, 'MissingObject');
      return { stream: from >= head.sizeBytes ? Readable.from([]) : await storage.getStream(job.object_key, from), sizeBytes: head.sizeBytes };
    }
    const inline = await db('contact_imports').where({ id: job.id }).first<{ source_csv: string | null }>('source_csv');
    const bytes = Buffer.from(inline?.source_csv ?? '', 'utf8');
    return { stream: Readable.from([bytes.subarray(from)]), sizeBytes: bytes.length };
  }

  /** Reads the header row once and records where the rows start (the file's end for a file without rows). */
  async function readHeader(job: ImportRow): Promise<ImportRow> {
    const { stream, sizeBytes } = await openSource(job, 0);
    const parser = stream.pipe(parse({ ...csvOptions(true), skip_empty_lines: true, to: 1 }));
    stream.once('error', (err) => parser.destroy(err));
    let first: ParsedRecord<string[]> | undefined;
    try {
      for await (const parsed of parser) first = parsed as ParsedRecord<string[]>;
    } catch (err) {
      throw asFailure(err);
    } finally {
      stream.destroy();
    }
    const header = first ? first.record.map((h) => h.trim().toLowerCase()) : [];
    const start = first ? { offset: first.info.bytes, lines: first.info.lines } : { offset: sizeBytes, lines: 0 };
    // The counters start here: an import begun before offsets were kept (migration Q01) is
    // read again from its first row, and merging a row again changes nothing.
    await db('contact_imports')
      .where({ id: job.id })
      .whereNull('next_offset')
      .update({ header, next_offset: start.offset, lines_done: start.lines, rows_seen: 0, rows_imported: 0, rows_rejected: 0 });
    return loadJob(job.id);
  }

  async function loadJob(importId: string): Promise<ImportRow> {
    const job = await db('contact_imports')
      .where({ id: importId })
      .first<ImportRow | undefined>('id', 'object_key', 'status', 'header', 'next_offset', 'lines_done', 'rows_seen', 'rows_imported', 'rows_rejected');
    if (!job) throw new Error(`contact import ${importId} not found`);
    return job;
  }

  return {
    async importContacts({ importId }: { importId: string }): Promise<ContactImportResult> {
      let job = await loadJob(importId);
      if (job.status !== 'processing') return { status: job.status === 'failed' ? 'failed' : 'completed', ...progressOf(job) };
      if (job.next_offset === null) job = await readHeader(job);
      const fromOffset = Number(job.next_offset);
      const { stream, sizeBytes } = await openSource(job, fromOffset);
      const client = (await db.client.acquireConnection()) as Client;
      try {
        let offset = fromOffset;
        const batches = readBatches(stream, { header: job.header ?? [], fromOffset, linesDone: job.lines_done, sizeBytes }, importBatchRows, now);
        await mergeOverlapped(batches, async (batch) => {
          const stored = await commitBatch(client, importId, offset, batch);
          offset = batch.toOffset;
          Context.current().heartbeat(progressOf(stored));
        });
      } finally {
        await db.client.releaseConnection(client);
      }
      await db('contact_imports').where({ id: importId, status: 'processing' }).update({ status: 'completed', completed_at: db.fn.now() });
      return { status: 'completed', ...progressOf(await loadJob(importId)) };
    },

    /** A file that cannot be read as CSV at all ends the import `failed` with the reason. */
    async failContactImport({ importId, reason }: { importId: string; reason: string }): Promise<void> {
      await db('contact_imports').where({ id: importId }).update({ status: 'failed', error_reason: reason, completed_at: db.fn.now() });
    },
  };
}
