import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createContactImportActivities } from '../../src/activities/campaigns/contact-import';
import type { Db } from '../../src/db/knex';
import type { ObjectStorage } from '../../src/providers/storage/port';
import type { ContactImportResult } from '../../src/workflows/campaigns/contract';
import { cardStorage } from '../helpers/cards';
import { insertContacts, newRun, uniquePhone } from '../helpers/campaigns';
import { testDb } from '../helpers/services';

/**
 * The contact import activity against PostgreSQL and a real S3 server, run in Temporal's
 * mock activity context (heartbeats recorded): rows merged by phone, each reject with its
 * line and reason, and an attempt that dies after a batch committed resumed by the next
 * one from the committed offset without reading or counting that batch again.
 */
describe('contact import (activity)', function () {
  this.timeout(120_000);
  let db: Db;
  let storage: ObjectStorage;

  before(async function () {
    this.timeout(600_000);
    [db, storage] = await Promise.all([testDb(), cardStorage()]);
  });

  const attrs = (value: object) => `"${JSON.stringify(value).replace(/"/g, '""')}"`;

  async function newImport(source: { csv: string } | { objectKey: string }): Promise<string> {
    const [row] = await db('contact_imports')
      .insert('csv' in source ? { source_csv: source.csv } : { object_key: source.objectKey })
      .returning<Array<{ id: string }>>('id');
    return row?.id as string;
  }

  /** Runs the activity as one attempt; `onHeartbeat` may throw to end the attempt there, as a dying worker would. */
  async function attempt(importId: string, options: { batchRows: number; onHeartbeat?: (details: unknown) => void }): Promise<ContactImportResult> {
    const env = new MockActivityEnvironment();
    if (options.onHeartbeat) env.on('heartbeat', options.onHeartbeat);
    const activities = createContactImportActivities({ db, storage, now: () => new Date(), importBatchRows: options.batchRows });
    return env.run((input: { importId: string }) => activities.importContacts(input), { importId });
  }

  const rejectsOf = async (importId: string) =>
    (await db('contact_import_rejects').where({ import_id: importId }).orderBy('row_number').select<Array<{ row_number: number; reason: string; raw: string }>>('row_number', 'reason', 'raw')).map(
      (r) => `${r.row_number} ${r.reason.split(':')[0]} ${r.raw}`,
    );

  it('creates and updates contacts by phone, keeping consent with its source and time', async () => {
    const run = newRun();
    const [known, fresh] = [uniquePhone(), uniquePhone()];
    await insertContacts(db, [{ phone: known, attributes: { run, tier: 'old' }, consent: { sms: { status: 'opt_in' } } }]);
    const csv = ['phone,timezone,attributes,consent', `${known},Europe/Oslo,${attrs({ run, tier: 'new' })},`, `${fresh.slice(0, 5)} ${fresh.slice(5)},UTC,${attrs({ run })},"{""whatsapp"":""opt_out""}"`].join('\n');
    const result = await attempt(await newImport({ csv }), { batchRows: 1 });
    assert.deepEqual(result, { status: 'completed', rowsSeen: 2, rowsImported: 2, rowsRejected: 0 });
    const rows = await db('contacts').whereIn('phone', [known, fresh]).orderBy('phone');
    const byPhone = new Map(rows.map((r) => [r.phone, r]));
    const k = byPhone.get(known);
    const f = byPhone.get(fresh);
    assert.deepEqual([k.attributes.tier, k.timezone, k.sms_consent, k.sms_consent_source], ['new', 'Europe/Oslo', 'opt_in', 'test']);
    assert.deepEqual([f.whatsapp_consent, f.whatsapp_consent_source, f.whatsapp_consent_at instanceof Date, f.sms_consent], ['opt_out', 'import', true, 'pending']);
  });

  it('records each rejected row with its file line and reason, blank and multi-line rows counted in the lines', async () => {
    const run = newRun();
    const csv = [
      'mobile,timezone,attributes,consent',
      `${uniquePhone()},UTC,"{""run"":""${run}"",\n""note"":1}",`,
      '',
      'not-a-phone,UTC,"{}",',
      `${uniquePhone()},Mars/Olympus,"{}",`,
      `${uniquePhone()},UTC,"[1]",`,
      `${uniquePhone()},UTC,"{}","{""sms"":""maybe""}"`,
      `${uniquePhone()},UTC,${attrs({ run })},`,
    ].join('\r\n');
    const importId = await newImport({ csv });
    const result = await attempt(importId, { batchRows: 2 });
    assert.deepEqual(result, { status: 'completed', rowsSeen: 6, rowsImported: 2, rowsRejected: 4 });
    assert.deepEqual(await rejectsOf(importId), ['5 phone not-a-phone,UTC,"{}",', `6 timezone ${csv.split('\r\n')[4]}`, `7 attributes ${csv.split('\r\n')[5]}`, `8 consent.sms ${csv.split('\r\n')[6]}`]);
    assert.equal(await db('contacts').whereRaw(`attributes @> ?::jsonb`, [JSON.stringify({ run })]).count('* as n').then((r) => Number(r[0]?.n)), 2);
  });

  it('rejects a row whose attributes hold U+0000 and imports the rest of its batch', async () => {
    const run = newRun();
    const csv = ['phone,attributes', `${uniquePhone()},"{""run"":""${run}"",""x"":""a\\u0000b""}"`, `${uniquePhone()},${attrs({ run })}`].join('\n');
    const importId = await newImport({ csv });
    assert.deepEqual(await attempt(importId, { batchRows: 10 }), { status: 'completed', rowsSeen: 2, rowsImported: 1, rowsRejected: 1 });
    assert.deepEqual((await rejectsOf(importId)).map((r) => r.split(' ').slice(0, 2).join(' ')), ['2 attributes']);
  });

  it('reads a CSV from object storage, streaming, the later row winning for a phone given twice', async () => {
    const run = newRun();
    const phone = uniquePhone();
    const lines = ['phone_number,attributes'];
    for (let i = 0; i < 25; i += 1) lines.push(`${uniquePhone()},${attrs({ run, i })}`);
    lines.push(`${phone},${attrs({ run, v: 1 })}`, `${phone},${attrs({ run, v: 2 })}`);
    const objectKey = `contact-imports/${randomUUID()}.csv`;
    await storage.put({ key: objectKey, body: Buffer.from(`\uFEFF${lines.join('\n')}\n`), contentType: 'text/csv' });
    const result = await attempt(await newImport({ objectKey }), { batchRows: 10 });
    assert.deepEqual(result, { status: 'completed', rowsSeen: 27, rowsImported: 27, rowsRejected: 0 });
    assert.equal((await db('contacts').where({ phone }).first()).attributes.v, 2);
  });

  it('resumes after a retry from the last batch written, reading and counting no row twice', async () => {
    const run = newRun();
    const lines = ['phone,attributes'];
    for (let i = 0; i < 10; i += 1) lines.push(i === 3 || i === 7 ? `bad-${i},"{}"` : `${uniquePhone()},${attrs({ run, i })}`);
    const objectKey = `contact-imports/${randomUUID()}.csv`;
    await storage.put({ key: objectKey, body: Buffer.from(lines.join('\n')), contentType: 'text/csv' });
    const importId = await newImport({ objectKey });

    // The first attempt dies right after its second batch (rows 1–8) commits.
    let beats = 0;
    await assert.rejects(
      attempt(importId, {
        batchRows: 4,
        onHeartbeat: () => {
          beats += 1;
          if (beats === 2) throw new Error('worker killed');
        },
      }),
      /worker killed/,
    );
    const between = await db('contact_imports').where({ id: importId }).first();
    assert.deepEqual([between.rows_seen, between.rows_imported, between.rows_rejected, between.status], [8, 6, 2, 'processing']);
    const firstWritten = await db('contacts').whereRaw(`attributes @> ?::jsonb`, [JSON.stringify({ run, i: 0 })]).first();

    const seen: unknown[] = [];
    const result = await attempt(importId, { batchRows: 4, onHeartbeat: (details) => seen.push(details) });
    assert.deepEqual(result, { status: 'completed', rowsSeen: 10, rowsImported: 8, rowsRejected: 2 });
    // One batch was left (rows 9–10): one heartbeat, and the first batch's contacts were not written again.
    assert.deepEqual(seen, [{ rowsSeen: 10, rowsImported: 8, rowsRejected: 2 }]);
    const again = await db('contacts').whereRaw(`attributes @> ?::jsonb`, [JSON.stringify({ run, i: 0 })]).first();
    assert.equal(again.updated_at.toISOString(), firstWritten.updated_at.toISOString());
    assert.deepEqual((await rejectsOf(importId)).map((r) => r.split(' ').slice(0, 2).join(' ')), ['5 phone', '9 phone']);
    assert.equal(await db('contacts').whereRaw(`attributes @> ?::jsonb`, [JSON.stringify({ run })]).count('* as n').then((r) => Number(r[0]?.n)), 8);
  });

  it('fails a file that is not valid CSV with the reason, without retrying', async () => {
    const importId = await newImport({ csv: `phone,attributes\n${uniquePhone()},"{""a"":1}\n"unclosed` });
    await assert.rejects(attempt(importId, { batchRows: 10 }), (err: Error & { nonRetryable?: boolean }) => /not valid CSV/.test(err.message) && err.nonRetryable === true);
  });
});
