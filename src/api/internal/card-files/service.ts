import { createHash, randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { stringify } from 'csv-stringify';
import type { ParameterizedContext } from 'koa';
import type { z } from 'zod';
import { findCardFile, insertCardFile, type CardFileRow } from '../../../cards/repository';
import { TASK_QUEUES, workflowIds } from '../../../temporal/names';
import { withDeadline } from '../../../temporal/client';
import type { IngestCardFileWorkflow } from '../../../workflows/cards/contract';
import type { AppContext, AppState } from '../../core/context';
import { problems } from '../../core/errors';
import type { CardFileSchema } from './schema';

/**
 * Partner files by upload (docs/cards.md). The body streams into object storage while
 * its SHA-256 is computed; nothing holds the whole file. The hash names the file and its
 * workflow (`card-file:<sha256>`), so the same bytes uploaded twice are one ingestion:
 * the second upload's object is deleted and the first file answered.
 */

class TooLarge extends Error {}

export function presentCardFile(file: CardFileRow): z.infer<typeof CardFileSchema> {
  const size = Number(file.size_bytes);
  const read = file.status === 'completed' ? size : Number(file.next_offset);
  return {
    id: file.id,
    partner: file.partner,
    source: file.source,
    status: file.status,
    reason: file.reason,
    sizeBytes: size,
    rows: Number(file.rows_total),
    accepted: Number(file.accepted),
    rejected: Number(file.rejected),
    duplicates: Number(file.duplicates),
    progress: { bytesRead: read, percent: size === 0 ? 100 : Math.floor((read / size) * 1000) / 10 },
    createdAt: file.created_at.toISOString(),
    startedAt: file.started_at?.toISOString() ?? null,
    finishedAt: file.finished_at?.toISOString() ?? null,
    durationMs: file.started_at && file.finished_at ? file.finished_at.getTime() - file.started_at.getTime() : null,
  };
}

/** Streams the request body into storage; answers the file and whether these bytes were new. */
export async function uploadCardFile(app: AppContext, ctx: ParameterizedContext<AppState>, partner: string): Promise<{ file: CardFileRow; created: boolean }> {
  const { storage, db, temporal } = app.deps;
  if (!storage) throw new Error('card file uploads need object storage (S3_*)');
  const maxBytes = app.config.cards.maxFileBytes;
  if (Number(ctx.get('content-length') || 0) > maxBytes) throw problems.payloadTooLarge(maxBytes);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) return done(new TooLarge());
      hash.update(chunk);
      done(null, chunk);
    },
  });
  ctx.req.once('error', (err) => meter.destroy(err));
  const objectKey = `card-files/uploads/${randomUUID()}/${partner}.csv`;
  try {
    await storage.putStream({ key: objectKey, body: ctx.req.pipe(meter), contentType: 'text/csv', metadata: { partner } });
  } catch (err) {
    if (err instanceof TooLarge || sizeBytes > maxBytes) throw problems.payloadTooLarge(maxBytes);
    throw err;
  }
  const id = hash.digest('hex');
  const created = await insertCardFile(db, { id, partner, objectKey, source: 'upload', sizeBytes });
  if (!created) await storage.delete(objectKey);
  try {
    // Started on every upload, so a file recorded by a request that died before starting its workflow gets one now.
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
      temporal.workflow.start<IngestCardFileWorkflow>('ingestCardFile', { taskQueue: TASK_QUEUES.core, workflowId: workflowIds.cardFile(id), args: [{ fileId: id }] }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { file: (await findCardFile(db, id)) as CardFileRow, created };
}

export async function cardFileOrNotFound(app: AppContext, id: string): Promise<CardFileRow> {
  const file = await findCardFile(app.deps.db, id);
  if (!file) throw problems.notFound('No card file with this id.');
  return file;
}

/** Rejected rows read per query while streaming them out. */
const REJECTS_PAGE = 1000;

/** The file's rejects in line order, a page at a time (keyset on the line number), so no answer holds them all. */
async function* rejectsOf(app: AppContext, fileId: string): AsyncGenerator<{ line_no: number; reason: string; raw: string }> {
  let after = 0;
  for (;;) {
    const page = await app.deps.db('card_file_rejects').where({ file_id: fileId }).andWhere('line_no', '>', after).orderBy('line_no').limit(REJECTS_PAGE).select('line_no', 'reason', 'raw');
    yield* page;
    if (page.length < REJECTS_PAGE) return;
    after = (page[page.length - 1] as { line_no: number }).line_no;
  }
}

/** The file's rejected rows as CSV (line, reason, raw row with card numbers redacted), streamed. */
export async function streamRejects(app: AppContext, ctx: ParameterizedContext<AppState>, id: string): Promise<void> {
  await cardFileOrNotFound(app, id);
  const rows = Readable.from(rejectsOf(app, id));
  const csv = stringify({ header: true, columns: [{ key: 'line_no', header: 'line' }, { key: 'reason' }, { key: 'raw', header: 'row' }] });
  rows.once('error', (err) => csv.destroy(err));
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="card-file-${id.slice(0, 12)}-rejects.csv"`);
  ctx.body = rows.pipe(csv);
}
