import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { statementPassword } from '../../src/activities/banking/statement-pdf';
import { pdfLines } from '../../src/activities/invoices/pdf-text';
import type { Db } from '../../src/db/knex';
import { transferIdFrom } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/service';
import type { Account } from '../../src/ledger/types';
import { formatMoney } from '../../src/money/money';
import { createNotifier } from '../../src/providers/notifier';
import { createSandboxSms } from '../../src/providers/sms/sandbox';
import { SmsSendError, type SmsProvider } from '../../src/providers/sms/port';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { createS3Storage } from '../../src/providers/storage/s3';
import { workflowIds } from '../../src/temporal/names';
import { statement } from '../../src/workflows';
import type { StatementInput, StatementPeriod } from '../../src/workflows/banking/contract';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { customerWithWallet, deposit, uniquePhone } from '../helpers/money';
import { localS3, workflowTestBed } from '../helpers/services';

/**
 * The statement workflow against the real ledger, a real S3 server (versitygw) and the
 * time-skipping Temporal server: the PDF it stores, opened with the holder's password,
 * shows exactly the ledger's lines and balances; storage or SMS down is retried, and
 * what finally fails is recorded and told to the holder.
 */

const DATE_OF_BIRTH = '1990-01-01';
const amount = (minor: bigint) => (minor === 0n ? '' : formatMoney(minor, 'USD').replace('USD ', ''));

describe('statement workflow (time-skipping server, versitygw)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let storage: ObjectStorage;

  before(async function () {
    this.timeout(600_000);
    const s3 = await localS3();
    ({ env, db, workflowBundle } = await workflowTestBed());
    storage = createS3Storage({ bucket: `statements-${randomUUID().slice(0, 8)}`, region: 'us-east-1', endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    await storage.ensureBucket();
  });

  /** A wallet with deposits and card purchases (a debit from the wallet to clearing). */
  async function walletWithHistory(count: number, phone = uniquePhone()): Promise<{ userId: string; wallet: Account }> {
    const { userId, wallet } = await customerWithWallet(db, { phone });
    const ledger = createLedger(db);
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    for (let i = 0; i < count; i++) {
      if (i % 3 === 0) await deposit(db, wallet.id, BigInt(50_000 + i));
      else await ledger.createTransfer({ id: randomUUID(), debitAccountId: wallet.id, creditAccountId: clearing.id, amountMinor: BigInt(1_000 + i * 13), currency: 'USD', code: 'card_purchase', metadata: { description: `Corner shop #${i}` } });
    }
    return { userId, wallet };
  }

  async function run(input: Omit<StatementInput, 'statementId' | 'source'>, deps: Partial<ActivityDeps> = {}) {
    const workflowId = workflowIds.statement(input.userId, randomUUID());
    const statementId = transferIdFrom(workflowId);
    const taskQueue = uniqueTaskQueue('statement');
    const activities = createActivities(testActivityDeps(db, { storage, statementLinkTtlSeconds: 600, ...deps }));
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
    const result = await worker.runUntil(env.client.workflow.execute(statement, { taskQueue, workflowId, args: [{ ...input, statementId, source: 'api' }] }));
    const row = await db('statements').where({ id: statementId }).first();
    const sms = await db('notifications').where('dedupe_key', 'like', `${workflowId}:%`).orderBy('created_at');
    return { workflowId, statementId, result, row, sms };
  }

  /** The statement's lines as the ledger has them, in the PDF's words. */
  async function ledgerLines(accountId: string, period: StatementPeriod): Promise<string[]> {
    const range = 'lastN' in period ? { lastN: period.lastN, asOf: new Date(period.asOf) } : { from: new Date(period.from), to: new Date(period.to) };
    const slice = await createLedger(db).statementSlice(accountId, range);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    return [
      `${day(slice.periodFrom)} Opening balance ${amount(slice.openingBalanceMinor) || '0.00'}`,
      ...slice.lines.map((l) =>
        [day(l.transfer.createdAt), (l.transfer.metadata.description as string | undefined) ?? 'deposit', amount(l.direction === 'debit' ? l.transfer.amountMinor : 0n), amount(l.direction === 'credit' ? l.transfer.amountMinor : 0n), amount(l.balanceAfterMinor) || '0.00']
          .filter(Boolean)
          .join(' '),
      ),
      `${day(slice.periodTo)} Closing balance ${amount(slice.closingBalanceMinor) || '0.00'}`,
    ];
  }

  async function pdfBody(objectKey: string): Promise<string[]> {
    const pages = await pdfLines(await storage.get(objectKey), statementPassword(DATE_OF_BIRTH));
    return pages.flat().filter((line) => /^\d{4}-\d{2}-\d{2} /.test(line));
  }

  it('stores a PDF of the last n transactions whose every line and balance equal the ledger', async () => {
    const { userId, wallet } = await walletWithHistory(40);
    const period = { lastN: 25, asOf: new Date().toISOString() };
    const { result, row } = await run({ userId, accountId: wallet.id, period });
    assert.equal(result.status, 'ready');
    assert.equal(row.line_count, 25);
    assert.deepEqual(await pdfBody(row.object_key), await ledgerLines(wallet.id, period));
  });

  it('covers a from-to range with the opening balance carried in from before it', async () => {
    const { userId, wallet } = await walletWithHistory(12);
    const transfers = await db('ledger_transfers').where({ credit_account_id: wallet.id }).orWhere({ debit_account_id: wallet.id }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
    const period = { from: (transfers[4].created_at as Date).toISOString(), to: new Date(Date.now() + 1000).toISOString() };
    const { row } = await run({ userId, accountId: wallet.id, period });
    const body = await pdfBody(row.object_key);
    assert.deepEqual(body, await ledgerLines(wallet.id, period));
    // Two transfers can share a millisecond, so the ms-precision `from` may take in the one before transfers[4].
    const inRange = await db('ledger_transfers').where((q) => q.where({ credit_account_id: wallet.id }).orWhere({ debit_account_id: wallet.id })).andWhere('created_at', '>=', new Date(period.from)).count<{ count: string }[]>({ count: '*' });
    assert.equal(row.line_count, Number(inRange[0]?.count));
    assert.ok(row.line_count >= 8 && row.line_count < 12 && BigInt(row.opening_balance_minor) > 0n);
    assert.equal(BigInt(row.closing_balance_minor) - BigInt(row.opening_balance_minor), BigInt(row.credits_minor) - BigInt(row.debits_minor));
  });

  it('texts one link that downloads the stored PDF, with the password hint', async () => {
    const { userId, wallet } = await walletWithHistory(3);
    const { row, sms } = await run({ userId, accountId: wallet.id, period: { lastN: 10, asOf: new Date().toISOString() } });
    assert.equal(sms.length, 1);
    assert.match(sms[0].body, /your date of birth as DDMMYYYY/);
    const link = /(http\S+)/.exec(sms[0].body)?.[1] as string;
    const download = await fetch(link);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), await storage.get(row.object_key));
  });

  it('states a card’s outstanding amount, minimum due and payment due date', async () => {
    const { userId } = await customerWithWallet(db, { phone: uniquePhone() });
    const ledger = createLedger(db);
    const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 500_000n });
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: card.id, creditAccountId: clearing.id, amountMinor: 120_000n, currency: 'USD', code: 'card_purchase', metadata: { description: 'Airline' } });
    const to = new Date(Date.now() + 1000);
    const { row } = await run({ userId, accountId: card.id, period: { from: '2026-01-01T00:00:00.000Z', to: to.toISOString() } });
    const due = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() + 21)).toISOString().slice(0, 10);
    const text = (await pdfLines(await storage.get(row.object_key), statementPassword(DATE_OF_BIRTH))).flat();
    assert.ok(text.includes('Total outstanding: USD 1,200.00'), text.join(' | '));
    assert.ok(text.includes('Minimum amount due: USD 60.00'));
    assert.ok(text.includes(`Payment due date: ${due}`));
  });

  it('retries while storage is down and finishes once it is back', async () => {
    const { userId, wallet } = await walletWithHistory(2);
    let failures = 0;
    const flaky: ObjectStorage = { ...storage, put: async (input) => (++failures <= 2 ? Promise.reject(new Error('storage down')) : storage.put(input)) };
    const { result } = await run({ userId, accountId: wallet.id, period: { lastN: 5, asOf: new Date().toISOString() } }, { storage: flaky });
    assert.deepEqual({ status: result.status, failures }, { status: 'ready', failures: 3 });
  });

  it('ends failed with the reason and tells the holder when storage stays down', async () => {
    const { userId, wallet } = await walletWithHistory(2);
    const down: ObjectStorage = { ...storage, put: () => Promise.reject(new Error('storage down')) };
    const { result, row, sms } = await run({ userId, accountId: wallet.id, period: { lastN: 5, asOf: new Date().toISOString() } }, { storage: down });
    assert.equal(result.status, 'failed');
    assert.deepEqual({ status: row.status, reason: row.failure_reason }, { status: 'failed', reason: 'storage down' });
    assert.deepEqual(sms.map((m: { template: string; status: string }) => [m.template, m.status]), [['statement_failed', 'delivered']]);
  });

  it('ends failed with the reason when the SMS provider stays down, the notice recorded as failed', async () => {
    const { userId, wallet } = await walletWithHistory(2);
    const smsDown: SmsProvider = { name: 'sandbox', send: () => Promise.reject(new SmsSendError('unreachable', true, 'provider down')) };
    const notifier = createNotifier({ db, sms: smsDown });
    const { row, sms } = await run({ userId, accountId: wallet.id, period: { lastN: 5, asOf: new Date().toISOString() } }, { notifier });
    assert.equal(row.status, 'failed');
    assert.match(row.failure_reason, /provider down/);
    assert.deepEqual(sms.map((m: { template: string; status: string }) => [m.template, m.status]), [['statement_link', 'queued'], ['statement_failed', 'failed']]);
  });

  it('sends no second SMS when run again under the same workflow id', async () => {
    const { userId, wallet } = await walletWithHistory(2);
    const first = await run({ userId, accountId: wallet.id, period: { lastN: 5, asOf: new Date().toISOString() } });
    const activities = createActivities(testActivityDeps(db, { storage, notifier: createNotifier({ db, sms: createSandboxSms({ db }) }) }));
    await activities.sendStatementLink({ statementId: first.statementId, dedupeKey: `${first.workflowId}:link` });
    assert.equal((await db('notifications').where('dedupe_key', 'like', `${first.workflowId}:%`)).length, 1);
  });
});
