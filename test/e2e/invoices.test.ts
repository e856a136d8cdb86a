import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../src/api/app';
import { withServices, type Config } from '../../src/config';
import { germanInvoiceLines, swedishRentLines, textPdf, usUtilityLines } from '../../src/dev/demo-invoices';
import { composeMail, startLocalImap, type LocalImap } from '../../src/dev/imap';
import { startDevServer } from '../../src/dev/temporal';
import { withDeadline } from '../../src/dev/deadline';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { scheduleIds, workflowIds } from '../../src/temporal/names';
import { insertPayment, paymentIdFrom, type NewPayment } from '../../src/payments/repository';
import { createWorker } from '../../src/worker/create-worker';
import { appPorts, createPorts } from '../../src/worker/deps';
import { client, type HttpResponse } from '../helpers/http';
import { deposit, uniquePhone } from '../helpers/money';
import { localS3, startupTimeoutMs, testConfig, testDb, postgresUrl, workflowBundle } from '../helpers/services';
import { signUpAndLogin, type SignedIn } from '../helpers/users';
import { eventually } from '../helpers/wait';
import type { Db } from '../../src/db/knex';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createLedger } from '../../src/ledger/service';
import type { EraseUserResult, EraseUserWorkflow } from '../../src/workflows/platform/contract';

/**
 * The invoices line over HTTP: the API, a worker and a Temporal dev server of this file's
 * own (its worker has object storage on versitygw, which the shared stack's has not),
 * a real IMAP server over TCP (hoodiecrow-imap) and PostgreSQL.
 */

const IMAP_USER = 'ada';
const IMAP_PASSWORD = 'imap-secret-1';

describe('invoices from a mailbox (e2e)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let config: Config;
  let temporal: Client;
  let worker: Worker;
  let running: Promise<void>;
  let api: Server;
  let imap: LocalImap;
  let http: ReturnType<typeof client>;

  before(async function () {
    this.timeout(240_000);
    const [url, s3, database] = await Promise.all([postgresUrl(), localS3(), testDb()]);
    db = database;
    env = await startDevServer({ timeoutMs: startupTimeoutMs() });
    config = withServices(
      testConfig({ S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', S3_BUCKET: 'invoices-e2e', IMAP_TIMEOUT_MS: '3000' }),
      url,
      env.address,
    );
    const ports = createPorts(config, { db });
    await ports.storage.ensureBucket();
    temporal = createClient(config.temporal);
    worker = await createWorker(config, { db, ...ports, now: () => new Date(), temporal }, { connection: env.nativeConnection, workflowBundle: await workflowBundle(), overrides: { shutdownGraceTime: '1s' } });
    running = worker.run();
    api = createApp(config, { db, temporal, logger: createLogger(config), ...appPorts(ports) }).listen(0, '127.0.0.1');
    await once(api, 'listening');
    http = client(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
    const mail = async (name: string, lines: string[]) => composeMail({ attachments: [{ filename: name, content: await textPdf(lines), contentType: 'application/pdf' }] });
    imap = await startLocalImap({
      username: IMAP_USER,
      password: IMAP_PASSWORD,
      folders: {
        INBOX: {
          messages: [
            await mail('hyra.pdf', swedishRentLines(1)),
            await mail('power.pdf', usUtilityLines(1)),
            await mail('rechnung.pdf', germanInvoiceLines(1)),
            await mail('letter.pdf', ['Hello, no invoice here.']),
            await composeMail({ attachments: [{ filename: 'photo.png', content: Buffer.from('png'), contentType: 'image/png' }] }),
          ],
        },
      },
    });
  });

  after(async () => {
    await imap?.stop();
    api?.closeAllConnections();
    api?.close();
    worker?.shutdown();
    await withDeadline('the invoices worker to stop', 30_000, running);
    await temporal?.connection.close();
    await env?.teardown();
  });

  const mailboxBody = (overrides: Record<string, unknown> = {}) => ({ host: imap.host, port: imap.port, tls: false, username: IMAP_USER, password: IMAP_PASSWORD, folder: 'INBOX', timezone: 'Europe/Stockholm', ...overrides });

  async function connected(): Promise<SignedIn> {
    const customer = await signUpAndLogin(`http://127.0.0.1:${(api.address() as AddressInfo).port}`, { phone: uniquePhone() });
    const res = await http('PUT', '/v1/me/mailbox', { token: customer.accessToken, body: mailboxBody() });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return customer;
  }

  /** Starts an ingestion and waits for it to end; answers its final progress. */
  async function ingested(customer: SignedIn): Promise<HttpResponse> {
    const started = await http('POST', '/v1/invoices/ingest', { token: customer.accessToken });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return eventually('the ingestion to end', async () => {
      const res = await http('GET', started.headers.get('location') as string, { token: customer.accessToken });
      return res.body.status === 'processing' ? undefined : res;
    });
  }

  const failedSave = async (overrides: Record<string, unknown>) => {
    const customer = await signUpAndLogin(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
    const res = await http('PUT', '/v1/me/mailbox', { token: customer.accessToken, body: mailboxBody(overrides) });
    return [res.status, res.body.type, res.body.errors?.[0]?.field, res.body.errors?.[0]?.code];
  };

  describe('connecting a mailbox', () => {
    it('refuses wrong credentials with 422 naming the password', async () => {
      assert.deepEqual(await failedSave({ password: 'wrong' }), [422, 'mailbox_connection_failed', 'password', 'authentication_failed']);
    });

    it('refuses an unreachable host with 422 naming the host', async () => {
      assert.deepEqual(await failedSave({ port: 1 }), [422, 'mailbox_connection_failed', 'host', 'host_unreachable']);
    });

    it('refuses TLS to a plain IMAP port with 422 naming tls', async () => {
      assert.deepEqual(await failedSave({ tls: true }), [422, 'mailbox_connection_failed', 'tls', 'tls_mismatch']);
    });

    it('refuses a folder the mailbox does not have with 422 naming the folder', async () => {
      assert.deepEqual(await failedSave({ folder: 'Nowhere' }), [422, 'mailbox_connection_failed', 'folder', 'folder_not_found']);
    });

    it('shows the mailbox without its password, and GET /v1/me says it is connected', async () => {
      const customer = await connected();
      const [mailbox, me] = await Promise.all([http('GET', '/v1/me/mailbox', { token: customer.accessToken }), http('GET', '/v1/me', { token: customer.accessToken })]);
      assert.deepEqual([mailbox.status, JSON.stringify(mailbox.body).includes(IMAP_PASSWORD), mailbox.body.schedule, me.body.mailboxConnected], [200, false, 'weekdays at 08:30 Europe/Stockholm', true]);
    });

    it('keeps the password sealed at rest with the key id', async () => {
      const customer = await connected();
      const row = await db('mailboxes').where({ user_id: customer.user.id }).first();
      assert.deepEqual([row.password_key_id, row.password_sealed.includes(Buffer.from(IMAP_PASSWORD))], [config.invoices.mailboxKeys.currentKeyId, false]);
    });

    it('creates a Schedule that fetches on weekdays at 08:30 in the customer timezone', async () => {
      const customer = await connected();
      const described = await temporal.schedule.getHandle(scheduleIds.invoiceIngestion(customer.user.id)).describe();
      const calendar = described.spec.calendars?.[0];
      assert.deepEqual(
        [described.spec.timezone, calendar?.hour, calendar?.minute, calendar?.dayOfWeek],
        ['Europe/Stockholm', [{ start: 8, end: 8, step: 1 }], [{ start: 30, end: 30, step: 1 }], [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }]],
      );
    });

    it('disconnects: the mailbox and its Schedule are gone', async () => {
      const customer = await connected();
      const res = await http('DELETE', '/v1/me/mailbox', { token: customer.accessToken });
      const me = await http('GET', '/v1/me', { token: customer.accessToken });
      await assert.rejects(temporal.schedule.getHandle(scheduleIds.invoiceIngestion(customer.user.id)).describe(), /not found/i);
      assert.deepEqual([res.status, me.body.mailboxConnected], [204, false]);
    });
  });

  describe('fetching and reading invoices', () => {
    let customer: SignedIn;
    let progress: HttpResponse;

    before(async () => {
      customer = await connected();
      progress = await ingested(customer);
    });

    it('answers the fetch with its progress: read, stored, parsed, unparsed, skipped', () => {
      const b = progress.body;
      assert.deepEqual([b.status, b.messagesRead, b.invoicesStored, b.parsed, b.unparsed, b.skipped], ['completed', 5, 4, 3, 1, 1]);
    });

    it('lists invoices newest due date first, the unparsed one last', async () => {
      const res = await http('GET', '/v1/invoices', { token: customer.accessToken });
      assert.deepEqual(
        res.body.data.map((i: { dueDate: string | null; status: string }) => [i.dueDate, i.status]),
        [
          ['2026-12-30', 'parsed'],
          ['2026-12-15', 'parsed'],
          ['2026-12-07', 'parsed'],
          [null, 'unparsed'],
        ],
      );
    });

    it('filters by status, issuer and due month', async () => {
      const get = async (query: string) => (await http('GET', `/v1/invoices?${query}`, { token: customer.accessToken })).body.data.length;
      assert.deepEqual([await get('status=unparsed'), await get('issuer=brightgrid%20power'), await get('dueMonth=2026-12'), await get('dueMonth=2027-01')], [1, 1, 3, 0]);
    });

    it('pages with a cursor without repeating or skipping', async () => {
      const first = await http('GET', '/v1/invoices?limit=3', { token: customer.accessToken });
      const second = await http('GET', `/v1/invoices?limit=3&cursor=${first.body.nextCursor}`, { token: customer.accessToken });
      assert.deepEqual([first.body.data.length, second.body.data.length, second.body.nextCursor], [3, 1, null]);
    });

    it('shows one invoice with its line items and a link that downloads the PDF', async () => {
      const list = await http('GET', '/v1/invoices?issuer=Bostads%20AB%20Ekhagen', { token: customer.accessToken });
      const res = await http('GET', `/v1/invoices/${list.body.data[0].id}`, { token: customer.accessToken });
      const pdf = Buffer.from(await (await fetch(res.body.downloadUrl)).arrayBuffer());
      assert.deepEqual(
        [res.body.amountDue, res.body.currency, res.body.paymentReference, res.body.lineItems.map((l: { name: string }) => l.name), pdf.equals(await textPdf(swedishRentLines(1)))],
        ['914663', 'SEK', '4820193701', ['Hyra', 'El', 'Kallvatten', 'Varmvatten', 'Moms'], true],
      );
    });

    it("answers 404 for another customer's invoice", async () => {
      const list = await http('GET', '/v1/invoices', { token: customer.accessToken });
      const other = await signUpAndLogin(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
      const res = await http('GET', `/v1/invoices/${list.body.data[0].id}`, { token: other.accessToken });
      assert.deepEqual([res.status, res.body.type], [404, 'not_found']);
    });

    it('sent one email and one SMS for each parsed invoice', async () => {
      const sent = await db('notifications').where({ user_id: customer.user.id, template: 'invoice_received' }).select('channel');
      assert.deepEqual([sent.filter((n) => n.channel === 'email').length, sent.filter((n) => n.channel === 'sms').length], [3, 3]);
    });

    it('a second fetch reads nothing new', async () => {
      const again = await ingested(customer);
      assert.deepEqual([again.body.status, again.body.messagesRead, again.body.invoicesStored], ['completed', 0, 0]);
    });

    it('pays an invoice once through the bill-payment saga, however often asked', async () => {
      const list = await http('GET', '/v1/invoices?issuer=BrightGrid%20Power', { token: customer.accessToken });
      const wallet = (await http('GET', '/v1/accounts', { token: customer.accessToken })).body.data[0];
      await deposit(db, wallet.id, 500_000n);
      const path = `/v1/invoices/${list.body.data[0].id}/pay`;
      const first = await http('POST', path, { token: customer.accessToken, body: { fromAccountId: wallet.id } });
      const second = await http('POST', path, { token: customer.accessToken, body: { fromAccountId: wallet.id } });
      const paid = await eventually('the payment to finish', async () => {
        const res = await http('GET', `/v1/payments/${first.body.id}`, { token: customer.accessToken });
        return res.body.status === 'processing' ? undefined : res;
      });
      assert.deepEqual(
        [[201, 202].includes(first.status), second.body.id === first.body.id, paid.body.status, paid.body.billerId, paid.body.customerRef, paid.body.amount],
        [true, true, 'succeeded', 'brightgrid-power', '4820193855', '123456'],
      );
    });

    it('answers the same payment when asked again after that payment spent the balance', async () => {
      const other = await connected();
      await ingested(other);
      const list = await http('GET', '/v1/invoices?issuer=BrightGrid%20Power', { token: other.accessToken });
      const wallet = (await http('GET', '/v1/accounts', { token: other.accessToken })).body.data[0];
      await deposit(db, wallet.id, 130_000n);
      const path = `/v1/invoices/${list.body.data[0].id}/pay`;
      const first = await http('POST', path, { token: other.accessToken, body: { fromAccountId: wallet.id } });
      await eventually('the payment to finish', async () => ((await http('GET', `/v1/payments/${first.body.id}`, { token: other.accessToken })).body.status === 'succeeded' ? true : undefined));
      const again = await http('POST', path, { token: other.accessToken, body: { fromAccountId: wallet.id } });
      assert.deepEqual([again.status, again.body.id, again.body.status], [200, first.body.id, 'succeeded']);
    });

    it('starts the payment an API process recorded and died before starting, when the invoice is paid again', async () => {
      const other = await connected();
      await ingested(other);
      const invoice = (await http('GET', '/v1/invoices?issuer=BrightGrid%20Power', { token: other.accessToken })).body.data[0];
      const wallet = (await http('GET', '/v1/accounts', { token: other.accessToken })).body.data[0];
      await deposit(db, wallet.id, 130_000n);
      // What a killed API leaves: the payment's row, claimed as `processing`, and no workflow.
      const workflowId = workflowIds.payment(other.user.id, workflowIds.invoicePaymentKey(invoice.id));
      const payment: NewPayment = {
        id: paymentIdFrom(workflowId),
        userId: other.user.id,
        kind: 'bill',
        billerId: invoice.billerId,
        customerRef: invoice.paymentReference,
        fromAccountId: wallet.id,
        toAccountId: null,
        amountMinor: invoice.amountDue,
        currency: invoice.currency,
        workflowId,
        recurringPaymentId: null,
        period: null,
      };
      await insertPayment(db, payment);
      const again = await http('POST', `/v1/invoices/${invoice.id}/pay`, { token: other.accessToken, body: { fromAccountId: wallet.id } });
      assert.equal(again.body.id, payment.id, JSON.stringify(again.body));
      const paid = await eventually('the payment to finish', async () => {
        const res = await http('GET', `/v1/payments/${payment.id}`, { token: other.accessToken });
        return res.body.status === 'processing' ? undefined : res;
      });
      assert.equal(paid.body.status, 'succeeded');
    });

    it('refuses to pay an invoice no template read', async () => {
      const list = await http('GET', '/v1/invoices?status=unparsed', { token: customer.accessToken });
      const wallet = (await http('GET', '/v1/accounts', { token: customer.accessToken })).body.data[0];
      const res = await http('POST', `/v1/invoices/${list.body.data[0].id}/pay`, { token: customer.accessToken, body: { fromAccountId: wallet.id } });
      assert.deepEqual([res.status, res.body.type], [409, 'conflict']);
    });
  });

  /**
   * The customer in every other line's tables: a statement, a banking SMS from their
   * phone, a campaign contact and a delivered card with their phone.
   */
  async function rowsInTheOtherLines(customer: SignedIn, accountId: string): Promise<void> {
    const { phone } = customer.user;
    await db('statements').insert({ id: randomUUID(), workflow_id: `statement:${customer.user.id}:erasure`, user_id: customer.user.id, account_id: accountId, source: 'api', last_n: 10, status: 'processing' });
    await db('sms_inbound').insert({ id: randomUUID(), provider: 'plivo', provider_message_id: randomUUID(), from_number: phone, to_number: '+14155550000', body: 'BAL' });
    await db('contacts').insert({ phone, attributes: {}, timezone: 'UTC' });
    const fileId = randomBytes(32).toString('hex');
    await db('card_files').insert({ id: fileId, partner: 'courier-delivered', object_key: `card-files/${fileId}.csv`, source: 'upload', size_bytes: 1 });
    const cardId = `CARD-${randomUUID()}`;
    await db('cards').insert({ card_id: cardId, phone_e164: phone, phone_seen_at: new Date(), status: 'delivered', status_at: new Date() });
    await db('card_events').insert({ card_id: cardId, status: 'delivered', event_at: new Date(), partner: 'courier-delivered', file_id: fileId, line_no: 2 });
  }

  describe('erasing a customer (DELETE /v1/me)', () => {
    let customer: SignedIn;
    let result: EraseUserResult;
    let walletId: string;
    let balanceBefore: string;

    before(async function () {
      this.timeout(120_000);
      customer = await connected();
      await ingested(customer);
      const wallet = (await http('GET', '/v1/accounts', { token: customer.accessToken })).body.data[0];
      walletId = wallet.id;
      await deposit(db, wallet.id, 500_000n);
      const invoice = (await http('GET', '/v1/invoices?issuer=BrightGrid%20Power', { token: customer.accessToken })).body.data[0];
      await http('POST', `/v1/invoices/${invoice.id}/pay`, { token: customer.accessToken, body: { fromAccountId: wallet.id } });
      await eventually('the payment to finish', async () => ((await db('payments').where({ user_id: customer.user.id }).first())?.status === 'processing' ? undefined : true));
      balanceBefore = (await http('GET', `/v1/accounts/${wallet.id}`, { token: customer.accessToken })).body.balances.posted;
      await rowsInTheOtherLines(customer, wallet.id);
      const res = await http('DELETE', '/v1/me', { token: customer.accessToken, body: { password: customer.password } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      result = await temporal.workflow.getHandle<EraseUserWorkflow>(res.body.workflowId).result();
    });

    it('refuses a wrong password with 400 naming it', async () => {
      const other = await signUpAndLogin(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
      const res = await http('DELETE', '/v1/me', { token: other.accessToken, body: { password: 'not my password' } });
      assert.deepEqual([res.status, res.body.errors[0].field, res.body.errors[0].code], [400, 'password', 'wrong_password']);
    });

    it('lists what each step erased', () => {
      const erased = Object.fromEntries(result.steps.map((s) => [s.step, s.erased]));
      assert.deepEqual(
        [erased.schedules?.schedules, erased.tokens?.refresh_tokens, erased.mailbox?.mailboxes, erased.invoices?.invoices, (erased.objects?.objects ?? 0) >= 4, erased.user?.users, erased.forget?.erasures],
        [1, 1, 1, 4, true, 1, 1],
      );
    });

    it("leaves the customer's id, email and phone in no table", async () => {
      const columns = (await db.raw(`
        select c.table_name, c.column_name from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'`)).rows as Array<{ table_name: string; column_name: string }>;
      const found: string[] = [];
      for (const { table_name: table, column_name: column } of columns) {
        for (const term of [customer.user.id, customer.email, customer.user.phone]) {
          const hit = await db(table).whereRaw('strpos(lower(??::text), lower(?)) > 0', [column, term]).first();
          if (hit) found.push(`${table}.${column} has ${term}`);
        }
      }
      assert.deepEqual(found, []);
    });

    it('leaves no object under the customer prefix in the bucket', async () => {
      const s3 = await localS3();
      const listed = await new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }).send(new ListObjectsV2Command({ Bucket: 'invoices-e2e' }));
      assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).filter((key) => key?.includes(customer.user.id)), []);
    });

    it('keeps the ledger balances, the accounts owned by no one', async () => {
      const account = await db('ledger_accounts').where({ id: walletId }).first();
      const balance = await createLedger(db).getAccount(walletId);
      assert.deepEqual([account.owner_user_id, String(balance?.balances.postedMinor)], [null, balanceBefore]);
    });

    it('refuses the access token afterwards', async () => {
      const res = await http('GET', '/v1/me', { token: customer.accessToken });
      assert.equal(res.status, 401);
    });

    it('erases nothing more when run again', async () => {
      const again = await temporal.workflow.execute<EraseUserWorkflow>('eraseUser', { taskQueue: 'finflow-core', workflowId: `erasure-again-${customer.user.id}`, args: [{ userId: customer.user.id }] });
      assert.deepEqual(again.steps.filter((s) => Object.keys(s.erased).length > 0), []);
    });
  });

  it('records why the mailbox cannot be read on the fetch while it retries', async () => {
    const gone = await startLocalImap({ username: IMAP_USER, password: IMAP_PASSWORD, folders: { INBOX: { messages: [] } } });
    const customer = await signUpAndLogin(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
    const saved = await http('PUT', '/v1/me/mailbox', { token: customer.accessToken, body: mailboxBody({ port: gone.port }) });
    await gone.stop();
    const started = await http('POST', '/v1/invoices/ingest', { token: customer.accessToken });
    const progress = await eventually('the failure to be recorded', async () => {
      const res = await http('GET', started.headers.get('location') as string, { token: customer.accessToken });
      return res.body.lastError ? res : undefined;
    });
    const mailbox = await http('GET', '/v1/me/mailbox', { token: customer.accessToken });
    assert.deepEqual([saved.status, progress.body.status, progress.body.lastError.split(':')[0], mailbox.body.lastError.split(':')[0]], [201, 'processing', 'host_unreachable', 'host_unreachable']);
  });
});
