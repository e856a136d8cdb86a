import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow, type FetchMessageObject } from 'imapflow';
import { createInvoiceActivities } from '../src/activities/invoices/invoices';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db/knex';
import { germanInvoiceLines, swedishRentLines, textPdf, usUtilityLines } from '../src/dev/demo-invoices';
import { composeMail, startLocalImap } from '../src/dev/imap';
import { startLocalS3 } from '../src/dev/versitygw';
import { saveMailbox } from '../src/invoices/mailboxes';
import { attachmentsOf } from '../src/providers/mailbox/imap';
import { createPorts } from '../src/worker/deps';
import { benchPostgres, benchStartupTimeoutMs } from './postgres';

/**
 * `npm run bench:invoices`: invoices fetched, stored and parsed per second from a
 * mailbox of BENCH_MAILS (default 1,000) mails, each with its own invoice PDF, against a
 * bare imapflow fetch of the same mails (body structures, then each PDF downloaded) in
 * the same run, from the same IMAP server (hoodiecrow-imap over TCP, in this process).
 *
 *   baseline  imapflow: open the folder, fetch every body structure, download each PDF
 *   finflow   the ingestion activity's batches: download, hash, store in S3 (versitygw),
 *             read with pdf.js, parse by template, insert the invoice, commit the position
 *
 * Rounds alternate (BENCH_ROUNDS, default 2), each finflow round on a fresh customer.
 */

const MAILS = Number(process.env.BENCH_MAILS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BATCH = 50;
const USER = 'bench';
const PASSWORD = 'bench-imap-password';

async function mailbox(): Promise<string[]> {
  const kinds = [swedishRentLines, usUtilityLines, germanInvoiceLines];
  const mails: string[] = [];
  for (let n = 0; n < MAILS; n++) {
    const lines = (kinds[n % kinds.length] as (n: number) => string[])(Math.floor(n / kinds.length));
    mails.push(await composeMail({ subject: `Invoice ${n}`, attachments: [{ filename: `invoice ${n}.pdf`, content: await textPdf(lines), contentType: 'application/pdf' }] }));
  }
  return mails;
}

/** The floor: what a bare IMAP client needs to get every PDF's bytes. */
async function bareFetch(host: string, port: number): Promise<number> {
  const client = new ImapFlow({ host, port, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false });
  await client.connect();
  await client.mailboxOpen('INBOX', { readOnly: true });
  const messages: FetchMessageObject[] = [];
  for await (const m of client.fetch('1:*', { uid: true, bodyStructure: true }, { uid: true })) messages.push(m);
  let pdfs = 0;
  for (const m of messages) {
    for (const a of attachmentsOf(m.bodyStructure).filter((x) => x.contentType === 'application/pdf')) {
      const { content } = await client.download(String(m.uid), a.part, { uid: true });
      for await (const _chunk of content ?? []) void _chunk;
      pdfs++;
    }
  }
  await client.logout();
  return pdfs;
}

async function main(): Promise<void> {
  console.log(`rendering ${MAILS} invoice mails…`);
  const mails = await mailbox();
  const imap = await startLocalImap({ username: USER, password: PASSWORD, folders: { INBOX: { messages: mails } } });
  const s3Dir = await mkdtemp(join(tmpdir(), 'finflow-bench-s3-'));
  const s3 = await startLocalS3({ dataDir: s3Dir, accessKeyId: 'bench', secretAccessKey: 'bench-secret', timeoutMs: benchStartupTimeoutMs() });
  const pg = await benchPostgres('finflow_bench_invoices');
  const db = createDb({ database: { url: pg.url, poolMax: 4, embeddedPort: 0 }, dependencyTimeoutMs: 10_000 });
  try {
    await migrateLatest(db);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'bench', S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', IMAP_TIMEOUT_MS: '30000' });
    const { storage, notifier, mailbox, secrets, invoiceReader } = createPorts(config, { db });
    await storage.ensureBucket();
    const activities = createInvoiceActivities({
      db,
      notifier,
      now: () => new Date(),
      storage,
      mailbox,
      secrets,
      invoiceReader,
      invoiceLimits: { maxAttachmentBytes: config.invoices.maxAttachmentBytes, batchMessages: BATCH },
    });

    const rows: Array<{ scenario: string; round: number; invoices: number; seconds: number; perSecond: number }> = [];
    const measure = async (scenario: string, round: number, run: () => Promise<number>) => {
      const t0 = process.hrtime.bigint();
      const invoices = await run();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      rows.push({ scenario, round, invoices, seconds: Number(seconds.toFixed(2)), perSecond: Number((invoices / seconds).toFixed(1)) });
    };
    for (let round = 1; round <= ROUNDS; round++) {
      await measure('baseline: bare imapflow fetch', round, () => bareFetch(imap.host, imap.port));
      await measure('finflow: fetch + store + parse', round, async () => {
        const userId = randomUUID();
        await db('users').insert({ id: userId, email: `${userId}@bench.invalid`, password_hash: 'x', name: 'Bench', phone: '+14155550123', date_of_birth: '1990-01-01', role: 'customer' });
        await saveMailbox(db, userId, { host: imap.host, port: imap.port, tls: false, username: USER, password: PASSWORD, folder: 'INBOX', timezone: 'UTC' }, secrets, new Date());
        const ingestionId = randomUUID();
        await activities.beginIngestion({ userId, ingestionId, trigger: 'request' });
        while (!(await activities.ingestMailboxBatch({ userId, ingestionId })).done);
        const progress: { invoices_stored: number; parsed: number } = await db('invoice_ingestions').where({ id: ingestionId }).first('invoices_stored', 'parsed');
        if (progress.parsed !== MAILS) throw new Error(`parsed ${progress.parsed} of ${MAILS}`);
        return progress.invoices_stored;
      });
    }
    console.table(rows);
    const mean = (name: string) => rows.filter((r) => r.scenario.startsWith(name)).reduce((sum, r) => sum + r.perSecond, 0) / ROUNDS;
    const summary = { baselinePerSecond: mean('baseline'), finflowPerSecond: mean('finflow'), percentOfBaseline: Number(((100 * mean('finflow')) / mean('baseline')).toFixed(1)) };
    console.log(`finflow ingests ${summary.finflowPerSecond.toFixed(1)} invoices/s, ${summary.percentOfBaseline} % of a bare imapflow fetch (${summary.baselinePerSecond.toFixed(1)}/s)`);
    const file = join(__dirname, 'results', `invoices-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    await writeFile(file, JSON.stringify({ bench: 'invoices', at: new Date().toISOString(), environment: { node: process.version, cpus: cpus().length }, mails: MAILS, rounds: ROUNDS, batch: BATCH, rows, ...summary }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    await db.destroy();
    await pg.stop();
    await s3.stop();
    await imap.stop();
    await rm(s3Dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  // Exit now: a service that failed half-way may still hold the event loop open.
  process.exit(1);
});
