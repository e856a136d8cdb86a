import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from '@temporalio/worker';
import { parse } from 'csv-parse';
import { createActivities } from '../src/activities';
import { parseImportRow } from '../src/activities/campaigns/contact-import';
import { toE164 } from '../src/campaigns/contacts';
import { previewSegment, applySegment, type SegmentFilter } from '../src/campaigns/segments';
import { type Db } from '../src/db/knex';
import { withDeadline } from '../src/dev/deadline';
import { workflowIds } from '../src/temporal/names';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import type { ContactImportWorkflow } from '../src/workflows/campaigns/contract';
import { postgresCpuSeconds } from './process-cpu';
import { storageStack } from './storage-stack';

/**
 * `npm run bench:contacts-import`: the contacts side of the campaigns line at a million
 * contacts, against PostgreSQL (embedded, or DATABASE_URL), the local S3 server and the
 * Temporal dev server, worker in this process:
 *
 *   1. a CSV of BENCH_IMPORT_ROWS contacts (default 1,000,000; one row in 1,000 with a bad
 *      phone) is streamed into the bucket;
 *   2. the file is imported through the contactImport workflow ({ objectKey }): rows/s,
 *      total time, the CPU time of this process and of PostgreSQL (from /proc, embedded
 *      server only), and this process's peak RSS and V8 heap in use (sampled every 100 ms
 *      during the import; the RSS before it, mostly the worker's workflow bundle, is
 *      printed too). Run it with the heap cap a worker that imports should have
 *      (docs/campaigns.md): NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=8";
 *   3. after `vacuum analyze` (what autovacuum does after a bulk load), each segment
 *      operator is previewed over the imported contacts as the API previews it (count and
 *      a sample of 10, two statements at once): the first run and the median of
 *      BENCH_PREVIEW_RUNS, with the plan PostgreSQL chose for the count;
 *   4. the per-row cost on the worker, measured apart on the first 100,000 rows in CPU time
 *      (wall time on a shared machine is mostly waiting): csv-parse, the whole row check,
 *      and the phone normalisation (libphonenumber-js) alone.
 *
 * Prints a table and writes JSON to bench/results/. The load average is printed with the
 * figures: the machine is shared.
 */

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const PREVIEW_RUNS = Number(process.env.BENCH_PREVIEW_RUNS ?? 5);
const SAMPLE_ROWS = Math.min(ROWS, 100_000);
const TASK_QUEUE = 'bench-contacts';
const CITIES = ['Paris', 'Lyon', 'Oslo', 'Lima', 'Pune', 'Kyiv', 'Baku', 'Doha', 'Rome', 'Riga'];
const HOBBIES = ['tennis', 'chess', 'running', 'jazz', 'cooking', 'hiking', 'poetry'];

/** The attributes of row i: every segment operator has something to select on. */
function attributesOf(i: number): Record<string, unknown> {
  const attributes: Record<string, unknown> = { city: CITIES[i % CITIES.length], age: 18 + (i % 70), tags: i % 4 === 0 ? ['vip', 'early'] : ['new'], note: `likes ${HOBBIES[i % HOBBIES.length]}`, first_name: `I${i}` };
  if (i % 5 === 0) attributes.email = `c${i}@example.test`;
  return attributes;
}

/** The CSV, generated a thousand rows at a time: distinct +1650 numbers, one row in 1,000 with a phone no country has. */
function* csvChunks(rows: number): Generator<string> {
  yield 'phone,timezone,attributes,consent\n';
  let local = 2_000_000;
  for (let start = 0; start < rows; start += 1000) {
    let text = '';
    for (let i = start; i < Math.min(rows, start + 1000); i += 1) {
      do local += 7;
      while (local % 10_000 >= 1 && local % 10_000 <= 4);
      const phone = i % 1000 === 999 ? `+999${local}` : `+1650${local}`;
      text += `${phone},${i % 3 === 0 ? 'Europe/Oslo' : 'UTC'},"${JSON.stringify(attributesOf(i)).replace(/"/g, '""')}","{""sms"":""opt_in""}"\n`;
    }
    yield text;
  }
}

/** CPU microseconds of this process since `from` (user + system): unlike wall time, not stretched by the other processes of a shared machine. */
function cpuUsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return used.user + used.system;
}

/** CPU microseconds per row of csv-parse, of the whole row check and of the phone normalisation alone, over the first rows. */
async function perRowCosts(rows: number): Promise<{ csvParseCpuUs: number; rowCheckCpuUs: number; phoneCpuUs: number }> {
  const records: Array<Record<string, string>> = [];
  const text = [...csvChunks(rows)];
  let from = process.cpuUsage();
  for await (const record of Readable.from(text).pipe(parse({ columns: true, info: true, raw: true }))) records.push((record as { record: Record<string, string> }).record);
  const csvParseCpuUs = cpuUsSince(from) / rows;
  const at = new Date();
  from = process.cpuUsage();
  for (const record of records) parseImportRow(record, at);
  const rowCheckCpuUs = cpuUsSince(from) / rows;
  from = process.cpuUsage();
  for (const record of records) toE164(record.phone as string);
  const phoneCpuUs = cpuUsSince(from) / rows;
  return { csvParseCpuUs, rowCheckCpuUs, phoneCpuUs };
}

const PREVIEWS: Array<{ name: string; filters: SegmentFilter[] }> = [
  { name: 'eq (city = Oslo)', filters: [{ path: 'city', op: 'eq', value: 'Oslo' }] },
  { name: 'in (city in Oslo, Lima)', filters: [{ path: 'city', op: 'in', value: ['Oslo', 'Lima'] }] },
  { name: 'neq (city != Oslo)', filters: [{ path: 'city', op: 'neq', value: 'Oslo' }] },
  { name: 'gt (age > 60)', filters: [{ path: 'age', op: 'gt', value: 60 }] },
  { name: 'lt (age < 25)', filters: [{ path: 'age', op: 'lt', value: 25 }] },
  { name: 'gt + lt (30 < age < 40)', filters: [{ path: 'age', op: 'gt', value: 30 }, { path: 'age', op: 'lt', value: 40 }] },
  { name: 'exists (email)', filters: [{ path: 'email', op: 'exists' }] },
  { name: 'contains (tags ∋ vip)', filters: [{ path: 'tags', op: 'contains', value: 'vip' }] },
  { name: 'contains (note ⊃ tennis)', filters: [{ path: 'note', op: 'contains', value: 'tennis' }] },
  { name: 'eq + gt (Oslo, age > 60)', filters: [{ path: 'city', op: 'eq', value: 'Oslo' }, { path: 'age', op: 'gt', value: 60 }] },
];

async function preview(db: Db, filters: SegmentFilter[]) {
  const times: number[] = [];
  let count = 0;
  for (let run = 0; run < PREVIEW_RUNS; run += 1) {
    const t0 = process.hrtime.bigint();
    count = (await previewSegment(db, filters, 10)).count;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const { rows } = await db.raw<{ rows: Array<{ 'QUERY PLAN': string }> }>('explain (analyze, buffers off) ?', [applySegment(db('contacts'), filters).count('* as count')]);
  const lines = rows.map((r) => r['QUERY PLAN'].trim());
  const plan = lines
    .filter((line) => /Scan/.test(line))
    .map((line) => line.replace(/^->\s*/, '').replace(/\s+\(cost.*$/, ''))
    .join('; ');
  const executionMs = Number(/Execution Time: ([\d.]+)/.exec(lines.join('\n'))?.[1] ?? NaN);
  return { count, firstMs: times[0] ?? NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, explainAnalyzeMs: executionMs, plan };
}

async function main(): Promise<void> {
  const { db, ports, temporal, stop } = await storageStack({ name: 'contacts', poolMax: 10, dependencyTimeoutMs: 30_000, temporal: true });
  try {
    // 1. The file.
    const objectKey = 'contact-imports/bench/contacts.csv';
    const stored = await ports.storage.putStream({ key: objectKey, contentType: 'text/csv', body: Readable.from(csvChunks(ROWS)) });
    console.log(`file: ${ROWS} rows, ${(stored.sizeBytes / 1024 / 1024).toFixed(0)} MB in the bucket`);

    // 2. The import.
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({ db, ...ports, now: () => new Date() }),
      shutdownGraceTime: '10s',
    });
    const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
    let peakRssBytes = 0;
    let peakHeapBytes = 0;
    const sampler = setInterval(() => {
      const memory = process.memoryUsage();
      peakRssBytes = Math.max(peakRssBytes, memory.rss);
      peakHeapBytes = Math.max(peakHeapBytes, memory.heapUsed);
    }, 100);
    const loadBefore = loadavg();
    const [job] = await db('contact_imports').insert({ object_key: objectKey }).returning<Array<{ id: string }>>('id');
    const importId = job?.id as string;
    const t0 = process.hrtime.bigint();
    const cpuFrom = process.cpuUsage();
    const dataDirectory = (await db.raw<{ rows: Array<{ data_directory: string }> }>('show data_directory')).rows[0]?.data_directory ?? '';
    const pgCpuFrom = await postgresCpuSeconds(dataDirectory);
    const result = await worker.runUntil(
      withDeadline('the import', 3_600_000, temporal.client.workflow.execute<ContactImportWorkflow>('contactImport', { taskQueue: TASK_QUEUE, workflowId: workflowIds.contactImport(importId), args: [{ importId }] })),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const workerCpuSeconds = cpuUsSince(cpuFrom) / 1e6;
    const pgCpuTo = await postgresCpuSeconds(dataDirectory);
    const postgresCpuSecondsUsed = pgCpuFrom !== undefined && pgCpuTo !== undefined ? pgCpuTo - pgCpuFrom : undefined;
    clearInterval(sampler);
    const loadAfter = loadavg();
    const imported = { seconds, rowsSeen: result.rowsSeen, rowsImported: result.rowsImported, rowsRejected: result.rowsRejected, rowsPerSecond: result.rowsSeen / seconds, workerCpuSeconds, postgresCpuSeconds: postgresCpuSecondsUsed, peakRssMb: peakRssBytes / 1024 / 1024, peakHeapUsedMb: peakHeapBytes / 1024 / 1024, rssBeforeMb, nodeOptions: process.env.NODE_OPTIONS ?? '' };
    console.log(
      `import: ${result.rowsSeen} rows (${result.rowsImported} imported, ${result.rowsRejected} rejected) in ${seconds.toFixed(1)} s = ${imported.rowsPerSecond.toFixed(0)} rows/s (CPU: this process ${workerCpuSeconds.toFixed(0)} s, PostgreSQL ${postgresCpuSecondsUsed?.toFixed(0) ?? '?'} s); peak RSS ${imported.peakRssMb.toFixed(0)} MB (${rssBeforeMb.toFixed(0)} MB before; V8 heap in use at most ${imported.peakHeapUsedMb.toFixed(0)} MB; NODE_OPTIONS '${imported.nodeOptions}'); load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
    );
    if (result.status !== 'completed' || result.rowsSeen !== ROWS) throw new Error(`the import ended ${result.status} after ${result.rowsSeen} of ${ROWS} rows`);

    // 3. Segment previews over the imported contacts.
    await db.raw('vacuum analyze contacts');
    const contacts = Number((await db('contacts').count<Array<{ n: string }>>('* as n'))[0]?.n);
    const previews: Array<{ name: string } & Awaited<ReturnType<typeof preview>>> = [];
    for (const { name, filters } of PREVIEWS) previews.push({ name, ...(await preview(db, filters)) });
    console.log(`\nsegment previews over ${contacts} contacts (count + sample of 10; ${PREVIEW_RUNS} runs), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.table(previews.map((p) => ({ filter: p.name, count: p.count, 'first ms': Math.round(p.firstMs), 'median ms': Math.round(p.medianMs), 'EXPLAIN ANALYZE ms': Math.round(p.explainAnalyzeMs), plan: p.plan })));

    // 4. Per-row costs on the worker, last: the rows they hold must not count in the import's memory.
    const costs = await perRowCosts(SAMPLE_ROWS);
    console.log(`\nCPU per row (first ${SAMPLE_ROWS}): csv-parse ${costs.csvParseCpuUs.toFixed(1)} µs, row check ${costs.rowCheckCpuUs.toFixed(1)} µs (of which the phone ${costs.phoneCpuUs.toFixed(1)} µs)`);

    const file = join(__dirname, 'results', `contacts-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL), loadAverage: { beforeImport: loadBefore, afterImport: loadAfter, end: loadavg() } };
    await writeFile(file, JSON.stringify({ bench: 'contacts-import', at: new Date().toISOString(), environment, rows: ROWS, fileBytes: stored.sizeBytes, perRowCosts: costs, import: imported, contacts, previews }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
