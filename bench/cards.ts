import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { insertCardFile } from '../src/cards/repository';
import { loadConfig } from '../src/config';
import { eventually } from '../src/dev/deadline';
import { workflowIds } from '../src/temporal/names';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import type { IngestCardFileWorkflow } from '../src/workflows/cards/contract';
import { summariseCpuProfile } from './cpu-profile';
import { storageStack } from './storage-stack';

/**
 * `npm run bench:cards`: a generated partner file of CARD_BENCH_ROWS rows (default one
 * million, the courier-pickup layout, one card per row) ingested end to end — stored in
 * the local S3 server, read by the ingestion workflow batch by batch on a worker in a process
 * of its own (bench/cards-worker.ts) — against a bare COPY of the same rows, already normalised, into the same
 * tables (cards and card_events) in the same run. Reports rows/s of both, the ratio
 * (goal ≥ 50 %) and the peak RSS of the worker process that ingests (goal < 300 MB),
 * run with the V8 heap cap docs/cards.md recommends for a worker that ingests card files
 * (CARD_BENCH_WORKER_HEAP_MB, 0 for none). CARD_BENCH_CPU_PROFILE=1 adds where the
 * worker's CPU went.
 */

const ROWS = Number(process.env.CARD_BENCH_ROWS ?? 1_000_000);
const BATCH_ROWS = loadConfig({ NODE_ENV: 'test', CARD_FILE_BATCH_ROWS: process.env.CARD_FILE_BATCH_ROWS }).cards.batchRows;
/**
 * The ingesting worker's V8 old-space cap (docs/cards.md, "Memory"): without one V8 lets
 * collectable garbage grow the heap to a multiple of what is live. 0 runs uncapped.
 */
const WORKER_HEAP_MB = Number(process.env.CARD_BENCH_WORKER_HEAP_MB ?? 128);
/** The worker's young-generation semi-space (MB); V8's default is 16. */
const WORKER_SEMI_SPACE_MB = Number(process.env.CARD_BENCH_WORKER_SEMI_SPACE_MB ?? 8);
/** CARD_BENCH_CPU_PROFILE=1 runs the worker under --cpu-prof and prints where its CPU went. */
const CPU_PROFILE = process.env.CARD_BENCH_CPU_PROFILE === '1';
const CHUNK_ROWS = 1000;
const TASK_QUEUE = 'bench-cards';
const PARTNER = 'courier-pickup';
/** 2023-11-01T00:00 in Dubai (UTC+4 all year), and one event every 2.5 s after it. */
const START_MS = Date.UTC(2023, 9, 31, 20, 0, 0);
const STEP_MS = 2500;
const DUBAI_OFFSET_MS = 4 * 3600_000;

interface Row {
  cardId: string;
  national: string;
  e164: string;
  atMs: number;
}

function rowAt(i: number): Row {
  const subscriber = String(i % 10_000_000).padStart(7, '0');
  // Minute resolution, as couriers write it.
  const atMs = Math.floor((START_MS + i * STEP_MS) / 60_000) * 60_000;
  return { cardId: `CARD-${String(i + 1).padStart(8, '0')}`, national: `50${subscriber}`, e164: `+97150${subscriber}`, atMs };
}

const two = (n: number) => String(n).padStart(2, '0');

/** `14-11-2023 12:00PM` in Dubai time. */
function courierTime(atMs: number): string {
  const local = new Date(atMs + DUBAI_OFFSET_MS);
  const hours = local.getUTCHours();
  return `${two(local.getUTCDate())}-${two(local.getUTCMonth() + 1)}-${local.getUTCFullYear()} ${two(hours % 12 === 0 ? 12 : hours % 12)}:${two(local.getUTCMinutes())}${hours < 12 ? 'AM' : 'PM'}`;
}

function* chunks(render: (row: Row, i: number) => string, header?: string): Generator<string> {
  if (header) yield `${header}\r\n`;
  for (let start = 0; start < ROWS; start += CHUNK_ROWS) {
    let text = '';
    for (let i = start; i < Math.min(ROWS, start + CHUNK_ROWS); i += 1) text += render(rowAt(i), i);
    yield text;
  }
}

const partnerFile = () => chunks((r, i) => `${i + 1},${r.cardId},${r.national},${courierTime(r.atMs)}\r\n`, 'ID,Card ID,User Mobile,Timestamp');

async function copyRows(url: string, fileId: string): Promise<number> {
  const pg = new PgClient({ connectionString: url });
  await pg.connect();
  try {
    // The second measurement follows the ingestion: start from the same empty tables.
    await pg.query('truncate card_events, cards');
    await pg.query('vacuum analyze cards, card_events');
    const started = process.hrtime.bigint();
    await pg.query('begin');
    await pipeline(
      Readable.from(chunks((r) => `${r.cardId},${r.e164},${new Date(r.atMs).toISOString()},dispatched,${new Date(r.atMs).toISOString()}\n`)),
      pg.query(copyFrom('copy cards (card_id, phone_e164, phone_seen_at, status, status_at) from stdin with (format csv)')),
    );
    await pipeline(
      Readable.from(chunks((r, i) => `${r.cardId},dispatched,${new Date(r.atMs).toISOString()},${PARTNER},${fileId},${i + 2}\n`)),
      pg.query(copyFrom('copy card_events (card_id, status, event_at, partner, file_id, line_no) from stdin with (format csv)')),
    );
    await pg.query('commit');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await pg.query('truncate card_events, cards');
    await pg.query('vacuum analyze cards, card_events');
    return seconds;
  } finally {
    await pg.end();
  }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function main(): Promise<void> {
  const { pg, s3, s3Dir, db, ports, temporal, timeoutMs, stop } = await storageStack({ name: 'cards', poolMax: 10, dependencyTimeoutMs: 10_000, temporal: true });
  try {
    const hash = createHash('sha256');
    const key = 'card-files/bench/courier-pickup.csv';
    const stored = await ports.storage.putStream({ key, contentType: 'text/csv', body: Readable.from((function* () { for (const chunk of partnerFile()) { hash.update(chunk); yield chunk; } })()) });
    const fileId = hash.digest('hex');
    await insertCardFile(db, { id: fileId, partner: PARTNER, objectKey: key, source: 'upload', sizeBytes: stored.sizeBytes });
    console.log(`file: ${ROWS} rows, ${mb(stored.sizeBytes)} MB`);

    const copyBeforeSeconds = await copyRows(pg.url, fileId);
    // The worker runs in a process of its own, on a bundle made here, so its RSS is the ingestion's alone.
    const bundlePath = join(s3Dir, 'workflow-bundle.js');
    await writeFile(bundlePath, (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') })).code);
    const profileDir = join(s3Dir, 'cpu-profile');
    const workerFlags = [
      ...(WORKER_HEAP_MB > 0 ? [`--max-old-space-size=${WORKER_HEAP_MB}`] : []),
      ...(WORKER_SEMI_SPACE_MB > 0 ? [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`] : []),
      ...(CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ];
    const child = spawn(process.execPath, [...workerFlags, '--import', 'tsx', join(__dirname, 'cards-worker.ts'), temporal.address, TASK_QUEUE, bundlePath, pg.url, String(BATCH_ROWS)], {
      env: { ...process.env, S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', S3_BUCKET: 'bench-cards' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    await eventually('the ingesting worker to start', () => Promise.resolve(output.includes('"ready"') ? true : undefined), { timeoutMs, intervalMs: 100 });
    const started = process.hrtime.bigint();
    const result = await temporal.client.workflow.execute<IngestCardFileWorkflow>('ingestCardFile', { taskQueue: TASK_QUEUE, workflowId: workflowIds.cardFile(fileId), args: [{ fileId }] });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    child.kill('SIGTERM');
    await exited;
    const memory = JSON.parse(output.trim().split('\n').pop() ?? '{}') as { rssBefore: number; heapBefore: number; peakRss: number; heapAtPeak: number };
    const summary = { result, seconds, ...memory };
    if (summary.result.counters.accepted !== ROWS) throw new Error(`ingested ${JSON.stringify(summary.result.counters)}, expected ${ROWS} accepted`);
    // COPY again after the ingestion: on a shared machine the load drifts, and the mean of a COPY either side of the ingestion is its fair baseline.
    const copyAfterSeconds = await copyRows(pg.url, fileId);
    const copySeconds = (copyBeforeSeconds + copyAfterSeconds) / 2;

    const copyRate = ROWS / copySeconds;
    const ingestRate = ROWS / summary.seconds;
    const ratio = ingestRate / copyRate;
    const table = [
      { scenario: 'bare COPY before the ingestion', rows: ROWS, seconds: copyBeforeSeconds.toFixed(1), rowsPerSecond: Math.round(ROWS / copyBeforeSeconds) },
      { scenario: 'bare COPY after the ingestion', rows: ROWS, seconds: copyAfterSeconds.toFixed(1), rowsPerSecond: Math.round(ROWS / copyAfterSeconds) },
      { scenario: 'bare COPY (cards + card_events, normalised rows), mean', rows: ROWS, seconds: copySeconds.toFixed(1), rowsPerSecond: Math.round(copyRate) },
      { scenario: `ingestCardFile end to end (S3 → csv-parse → ${BATCH_ROWS}-row batches)`, rows: ROWS, seconds: summary.seconds.toFixed(1), rowsPerSecond: Math.round(ingestRate) },
    ];
    console.table(table);
    console.log(`ingestion / COPY: ${(ratio * 100).toFixed(1)} % (goal ≥ 50 %: ${ratio >= 0.5 ? 'met' : 'MISSED'})`);
    console.log(
      `RSS of the ingesting worker process (${workerFlags.join(' ') || 'no V8 flags'}): ${mb(summary.rssBefore)} MB before (V8 heap in use ${mb(summary.heapBefore)} MB), peak ${mb(summary.peakRss)} MB while ingesting (V8 heap in use then ${mb(summary.heapAtPeak)} MB) (goal < 300 MB: ${summary.peakRss < 300 * 1024 * 1024 ? 'met' : 'MISSED'})`,
    );
    const profile = CPU_PROFILE ? await summariseCpuProfile(join(profileDir, (await readdir(profileDir))[0] as string)) : undefined;
    if (profile) {
      console.log('where the ingesting worker spent its CPU (self time, from --cpu-prof):');
      console.table(profile.map((p) => ({ where: p.where, seconds: p.seconds.toFixed(1), percent: p.percent.toFixed(1) })));
    }

    const file = join(__dirname, 'results', `cards-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL), temporal: 'dev server (in-memory)' };
    await writeFile(
      file,
      JSON.stringify(
        { bench: 'cards', at: new Date().toISOString(), environment, rows: ROWS, batchRows: BATCH_ROWS, workerFlags, fileBytes: stored.sizeBytes, copyRowsPerSecond: copyRate, copyBeforeSeconds, copyAfterSeconds, ingestRowsPerSecond: ingestRate, ratio, rssBeforeBytes: summary.rssBefore, heapBeforeBytes: summary.heapBefore, peakRssBytes: summary.peakRss, heapAtPeakBytes: summary.heapAtPeak, table, cpuProfile: profile },
        null,
        2,
      ),
    );
    console.log(`wrote ${file}`);
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  // Exit now: a service that failed half-way may still hold the event loop open.
  process.exit(1);
});
