import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { createInvoiceActivities } from '../../src/activities/invoices/invoices';
import { createInvoiceReader } from '../../src/activities/invoices/reading';
import type { Db } from '../../src/db/knex';
import { germanInvoiceLines, swedishRentLines, textPdf, usUtilityLines } from '../../src/dev/demo-invoices';
import { composeMail, startLocalImap, type ImapFolderSeed, type LocalImap } from '../../src/dev/imap';
import { saveMailbox } from '../../src/invoices/mailboxes';
import { createImapMailboxPort } from '../../src/providers/mailbox/imap';
import { createSecretBox } from '../../src/providers/mailbox/secret-box';
import { createSandboxNotifier } from '../../src/providers/sandbox-notifier';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { createS3Storage } from '../../src/providers/storage/s3';
import { insertCustomer } from '../helpers/fixtures';
import { localS3, testConfig, testDb } from '../helpers/services';

/**
 * Ingestion against real servers: an IMAP server over TCP (hoodiecrow-imap), an S3 server
 * that verifies signatures (versitygw) and PostgreSQL. Each test gets its own customer
 * and mailbox; the activities are the worker's, called directly.
 */

const USER = 'alice';
const PASSWORD = 'secret-imap-password';
const MAX_ATTACHMENT_BYTES = 200_000;

describe('invoice ingestion (IMAP, S3, PostgreSQL)', function () {
  this.timeout(60_000);
  let db: Db;
  let storage: ObjectStorage;
  const config = testConfig();
  const secrets = createSecretBox(config.invoices.mailboxKeys);
  const servers: LocalImap[] = [];
  let pdfs: { rent: Buffer; utility: Buffer; german: Buffer; unknown: Buffer };

  before(async () => {
    db = await testDb();
    const s3 = await localS3();
    storage = createS3Storage({ endpoint: s3.endpoint, region: 'us-east-1', bucket: `invoices-${randomUUID().slice(0, 8)}`, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    await storage.ensureBucket();
    pdfs = {
      rent: await textPdf(swedishRentLines()),
      utility: await textPdf(usUtilityLines()),
      german: await textPdf(germanInvoiceLines()),
      unknown: await textPdf(['Dear customer,', 'thank you for your order.']),
    };
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  async function imap(folders: Record<string, ImapFolderSeed>, port?: number): Promise<LocalImap> {
    const server = await startLocalImap({ username: USER, password: PASSWORD, folders, ...(port ? { port } : {}) });
    servers.push(server);
    return server;
  }

  async function customerWithMailbox(server: LocalImap, overrides: { password?: string; folder?: string; fromFilter?: string } = {}) {
    const userId = await insertCustomer(db);
    const { password = PASSWORD, folder = 'INBOX', fromFilter } = overrides;
    await saveMailbox(db, userId, { host: server.host, port: server.port, tls: false, username: USER, password, folder, fromFilter, timezone: 'Europe/Stockholm' }, secrets, new Date());
    return userId;
  }

  function activities(batchMessages = 50) {
    return createInvoiceActivities({
      db,
      notifier: createSandboxNotifier(db),
      now: () => new Date(),
      storage,
      mailbox: createImapMailboxPort({ timeoutMs: 5_000 }),
      secrets,
      invoiceReader: createInvoiceReader(),
      invoiceLimits: { maxAttachmentBytes: MAX_ATTACHMENT_BYTES, batchMessages },
    });
  }

  /** Runs batches until the mailbox is read, as the workflow does; answers the progress row. */
  async function ingest(userId: string, acts = activities()) {
    const ingestionId = randomUUID();
    await acts.beginIngestion({ userId, ingestionId, trigger: 'request' });
    const toNotify: string[] = [];
    for (;;) {
      const batch = await acts.ingestMailboxBatch({ userId, ingestionId });
      toNotify.push(...batch.toNotify.filter((id) => !toNotify.includes(id)));
      if (batch.done) break;
    }
    const progress = await db('invoice_ingestions').where({ id: ingestionId }).first();
    return { ingestionId, toNotify, progress };
  }

  const invoicesOf = (userId: string) => db('invoices').where({ user_id: userId }).orderBy('source_uid');
  const skipsOf = (userId: string) => db('invoice_skips').where({ user_id: userId }).orderBy(['uid', 'part']);
  const mail = (filename: string, content: Buffer, from?: string) => composeMail({ from, attachments: [{ filename, content, contentType: 'application/pdf' }] });

  it('stores a PDF sent twice under different names once, under the customer prefix, keyed by its content', async () => {
    const server = await imap({ INBOX: { messages: [await mail('faktura december.pdf', pdfs.rent), await mail('Räkning (1) – kopia.pdf', pdfs.rent)] } });
    const userId = await customerWithMailbox(server);
    const { progress } = await ingest(userId);
    const rows = await invoicesOf(userId);
    assert.equal(rows.length, 1);
    assert.match(rows[0].object_key, new RegExp(`^users/${userId}/invoices/[0-9a-f]{64}\\.pdf$`));
    assert.deepEqual(await storage.get(rows[0].object_key), pdfs.rent);
    assert.deepEqual([progress.invoices_stored, progress.duplicates, rows[0].filename], [1, 1, 'faktura december.pdf']);
  });

  it('parses each issuer by its template and keeps a PDF no template reads as unparsed with the reason', async () => {
    const server = await imap({ INBOX: { messages: [await mail('a.pdf', pdfs.rent), await mail('b.pdf', pdfs.utility), await mail('c.pdf', pdfs.german), await mail('d.pdf', pdfs.unknown)] } });
    const userId = await customerWithMailbox(server);
    await ingest(userId);
    const rows = await invoicesOf(userId);
    assert.deepEqual(
      rows.map((r) => [r.status, r.template_id, r.amount_due_minor, r.currency, r.payment_reference, r.unparsed_reason]),
      [
        ['parsed', 'se-rent', '914563', 'SEK', '4820193700', null],
        ['parsed', 'us-utility', '123456', 'USD', '4820193755', null],
        ['parsed', 'de-invoice', '123456', 'EUR', 'RF00018055', null],
        ['unparsed', null, null, null, null, 'no template matches this document'],
      ],
    );
  });

  it('records non-PDF attachments, huge attachments and PDFs in name only as skips with the reason', async () => {
    const huge = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(MAX_ATTACHMENT_BYTES + 10_000)]);
    const messages = [
      await composeMail({ attachments: [{ filename: 'invoice.pdf', content: pdfs.rent, contentType: 'application/pdf' }, { filename: 'terms.txt', content: 'terms', contentType: 'text/plain' }] }),
      await mail('scan.pdf', huge),
      await mail('fake.pdf', Buffer.from('this is no PDF at all')),
    ];
    const server = await imap({ INBOX: { messages } });
    const userId = await customerWithMailbox(server);
    await ingest(userId);
    const skips = await skipsOf(userId);
    assert.deepEqual(
      skips.map((s) => [Number(s.uid), s.filename, s.reason.replace(/\d+/g, 'N')]),
      [
        [1, 'terms.txt', 'not a PDF (text/plain)'],
        [2, 'scan.pdf', 'larger than N bytes (about N)'],
        [3, 'fake.pdf', 'named a PDF but its content is not one'],
      ],
    );
  });

  it('records a message whose MIME structure is broken as a skip and reads on', async () => {
    const broken = 'From: a@b.test\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary="nowhere"\r\n\r\nno parts follow\r\n';
    const server = await imap({ INBOX: { messages: [broken, await mail('a.pdf', pdfs.utility)] } });
    const userId = await customerWithMailbox(server);
    await ingest(userId);
    const [skips, rows] = await Promise.all([skipsOf(userId), invoicesOf(userId)]);
    assert.deepEqual([skips.map((s) => s.reason.split(':')[0]), rows.length], [['malformed MIME'], 1]);
  });

  it('reads only messages after the last UID on the next run', async () => {
    const server = await imap({ INBOX: { messages: [await mail('a.pdf', pdfs.rent)] } });
    const userId = await customerWithMailbox(server);
    await ingest(userId);
    const client = new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false });
    await client.connect();
    await client.append('INBOX', await mail('b.pdf', pdfs.utility));
    await client.logout();
    const second = await ingest(userId);
    assert.deepEqual([second.progress.messages_read, (await invoicesOf(userId)).length], [1, 2]);
  });

  it('reads the folder again after UIDVALIDITY changes and stores nothing twice', async () => {
    const seed = async () => ({ messages: [await mail('a.pdf', pdfs.rent), await mail('b.pdf', pdfs.utility)] });
    const first = await imap({ INBOX: { uidValidity: 100, ...(await seed()) } });
    const userId = await customerWithMailbox(first);
    await ingest(userId);
    await first.stop();
    await imap({ INBOX: { uidValidity: 200, ...(await seed()) } }, first.port);
    const { progress } = await ingest(userId);
    const mailbox = await db('mailboxes').where({ user_id: userId }).first();
    assert.deepEqual(
      [progress.rescans, progress.messages_read, progress.invoices_stored, progress.duplicates, mailbox.uid_validity, (await invoicesOf(userId)).length],
      [1, 2, 0, 2, '200', 2],
    );
  });

  it('treats the same PDF in another folder as the invoice already stored', async () => {
    const server = await imap({ INBOX: { messages: [await mail('a.pdf', pdfs.german)] }, Archive: { messages: [await mail('copy.pdf', pdfs.german)] } });
    const userId = await customerWithMailbox(server);
    await ingest(userId);
    await saveMailbox(db, userId, { host: server.host, port: server.port, tls: false, username: USER, password: PASSWORD, folder: 'Archive', timezone: 'UTC' }, secrets, new Date());
    const { progress } = await ingest(userId);
    assert.deepEqual([progress.duplicates, (await invoicesOf(userId)).length], [1, 1]);
  });

  it('takes only mails from the sender filter', async () => {
    const server = await imap({ INBOX: { messages: [await mail('a.pdf', pdfs.rent, 'faktura@ekhagen.test'), await mail('b.pdf', pdfs.utility, 'spam@elsewhere.test')] } });
    const userId = await customerWithMailbox(server, { fromFilter: 'ekhagen' });
    await ingest(userId);
    assert.deepEqual((await invoicesOf(userId)).map((r) => r.template_id), ['se-rent']);
  });

  it('reads a long mailbox in batches, each committing its position', async () => {
    const messages = await Promise.all([0, 1, 2, 3, 4].map(async (n) => mail(`${n}.pdf`, await textPdf(usUtilityLines(n)))));
    const server = await imap({ INBOX: { messages } });
    const userId = await customerWithMailbox(server);
    const { progress } = await ingest(userId, activities(2));
    const mailbox = await db('mailboxes').where({ user_id: userId }).first();
    assert.deepEqual([progress.invoices_stored, mailbox.last_uid], [5, '5']);
  });

  it('records a refused login on the mailbox and the ingestion, and throws a retryable error', async () => {
    const server = await imap({ INBOX: { messages: [] } });
    const userId = await customerWithMailbox(server, { password: 'wrong' });
    const acts = activities();
    const ingestionId = randomUUID();
    await acts.beginIngestion({ userId, ingestionId, trigger: 'request' });
    await assert.rejects(acts.ingestMailboxBatch({ userId, ingestionId }), (err: Error) => err.constructor === Error && /authentication_failed/.test(err.message));
    const [mailbox, progress] = await Promise.all([db('mailboxes').where({ user_id: userId }).first(), db('invoice_ingestions').where({ id: ingestionId }).first()]);
    assert.match(`${mailbox.last_error} | ${progress.last_error}`, /^authentication_failed: .* \| authentication_failed: /);
  });

  it('sends one email and one SMS per parsed invoice however often the notice is retried', async () => {
    const server = await imap({ INBOX: { messages: [await mail('a.pdf', await textPdf(swedishRentLines(7)))] } });
    const userId = await customerWithMailbox(server);
    const acts = activities();
    const { toNotify } = await ingest(userId, acts);
    await acts.sendInvoiceNotice({ invoiceId: toNotify[0] as string });
    await acts.sendInvoiceNotice({ invoiceId: toNotify[0] as string });
    const sent = await db('notifications').where({ user_id: userId, template: 'invoice_received' }).orderBy('channel');
    assert.deepEqual(
      sent.map((n) => [n.channel, n.body]),
      [
        ['email', 'New invoice from Bostads AB Ekhagen: SEK 9,152.63 due 2026-12-30 (invoice 2026-1007). Pay it in finflow.'],
        ['sms', 'New invoice from Bostads AB Ekhagen: SEK 9,152.63 due 2026-12-30 (invoice 2026-1007). Pay it in finflow.'],
      ],
    );
  });
});
