import { Context } from '@temporalio/activity';
import { parse } from 'csv-parse';
import type { Db } from '../../db/knex';
import { CHANNELS, CONSENT_STATUSES, contactColumns, upsertContacts, type ContactInput } from '../../campaigns/contacts';
import type { ObjectStorage } from '../../providers/storage/port';
import type { ContactImportResult } from '../../workflows/campaigns/contract';

/**
 * A contacts CSV import (docs/campaigns.md, "Import"): the file (in object storage, or
 * inline in the import row) is parsed as a stream; rows are upserted by phone in multi-row statements
 * of IMPORT_BATCH_ROWS, each rejected row is recorded with its line and reason, and the
 * counters are written after every batch (the progress GET /v1/contacts/imports/{id}
 * shows). One activity holds the whole file; it heartbeats its position, so a retry
 * resumes after the last batch written instead of starting over.
 */

export const IMPORT_BATCH_ROWS = 5000;
const PHONE_COLUMNS = ['phone', 'phone_number', 'mobile'];

interface Progress {
  rowsSeen: number;
  rowsImported: number;
  rowsRejected: number;
}

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
  return columns.ok ? { ok: true, row: columns.row } : { ok: false, reason: `${columns.field}: ${columns.reason}` };
}

export function createContactImportActivities({ db, storage, now }: { db: Db; storage?: ObjectStorage; now: () => Date }) {
  async function writeBatch(importId: string, rows: Array<{ line: number; record: Record<string, string> }>, progress: Progress): Promise<void> {
    const byPhone = new Map<string, Record<string, unknown>>();
    const rejects: Array<{ import_id: string; row_number: number; reason: string; raw: string }> = [];
    const at = now();
    for (const { line, record } of rows) {
      const parsed = parseImportRow(record, at);
      // A phone twice in one batch: the later row wins, as it would in separate batches.
      if (parsed.ok) byPhone.set(parsed.row.phone as string, parsed.row);
      else rejects.push({ import_id: importId, row_number: line, reason: parsed.reason, raw: JSON.stringify(record).slice(0, 2000) });
    }
    await db.transaction(async (trx) => {
      await upsertContacts(trx, [...byPhone.values()]);
      if (rejects.length > 0) await trx('contact_import_rejects').insert(rejects).onConflict(['import_id', 'row_number']).ignore();
      progress.rowsSeen += rows.length;
      progress.rowsImported += rows.length - rejects.length;
      progress.rowsRejected += rejects.length;
      await trx('contact_imports').where({ id: importId }).update({ rows_seen: progress.rowsSeen, rows_imported: progress.rowsImported, rows_rejected: progress.rowsRejected });
    });
  }

  return {
    async importContacts({ importId }: { importId: string }): Promise<ContactImportResult> {
      // An inline CSV can be a million rows (about 100 MB): reading it may outlast the pool's default statement timeout.
      const job = await db.transaction(async (trx) => {
        await trx.raw(`set local statement_timeout = '10min'`);
        return trx('contact_imports').where({ id: importId }).first<{ object_key: string | null; source_csv: string | null } | undefined>();
      });
      if (!job) throw new Error(`contact import ${importId} not found`);
      if (job.object_key && !storage) throw new Error('importContacts needs object storage for a file in the bucket');
      const source = job.object_key && storage ? await storage.get(job.object_key) : (job.source_csv ?? '');
      const resumed = Context.current().info.heartbeatDetails as Progress | undefined;
      const progress: Progress = resumed ?? { rowsSeen: 0, rowsImported: 0, rowsRejected: 0 };
      const parser = parse(source, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
      let batch: Array<{ line: number; record: Record<string, string> }> = [];
      let index = 0;
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        if (index++ < progress.rowsSeen) continue;
        batch.push({ line: info.lines, record });
        if (batch.length === IMPORT_BATCH_ROWS) {
          await writeBatch(importId, batch, progress);
          Context.current().heartbeat(progress);
          batch = [];
        }
      }
      await writeBatch(importId, batch, progress);
      await db('contact_imports').where({ id: importId }).update({ status: 'completed', completed_at: db.fn.now() });
      return { status: 'completed', ...progress };
    },

    /** A file that cannot be read as CSV at all ends the import `failed` with the reason. */
    async failContactImport({ importId, reason }: { importId: string; reason: string }): Promise<void> {
      await db('contact_imports').where({ id: importId }).update({ status: 'failed', error_reason: reason, completed_at: db.fn.now() });
    },
  };
}
