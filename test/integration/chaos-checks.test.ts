import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { CHECKS, type CheckContext } from '../../scripts/chaos/checks';
import { cardFile } from '../../scripts/chaos/fixtures';
import { Prng } from '../../scripts/chaos/prng';
import type { Issued } from '../../scripts/chaos/operations';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import { workflowIds } from '../../src/temporal/names';
import { customerWithWallet, deposit } from '../helpers/money';
import { testDb } from '../helpers/services';

/**
 * The chaos run's checks (scripts/chaos/checks.ts) each find the breach they are named
 * for. Every test plants one inside a transaction that is rolled back, so the shared
 * database stays as the other tests expect it.
 */
describe('chaos checks', () => {
  let db: Db;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
  });

  /** Runs one check (by the start of its name) on a state planted in a transaction, then rolls it back. */
  async function findings(check: string, issued: Issued[], plant: (trx: Db) => Promise<void>): Promise<string[]> {
    const found = CHECKS.find((c) => c.name.startsWith(check));
    if (!found) throw new Error(`no check named ${check}`);
    const trx = await db.transaction();
    try {
      await plant(trx);
      const ctx: CheckContext = { db: trx, temporal: undefined as unknown as Client, issued };
      return await found.run(ctx);
    } finally {
      await trx.rollback();
    }
  }

  async function funding(trx: Db, status: 'succeeded' | 'failed', chargeStatus: 'succeeded' | 'declined' | undefined) {
    const { userId, wallet } = await customerWithWallet(trx);
    const workflowId = workflowIds.walletFunding(userId, randomUUID());
    await trx('wallet_fundings').insert({ id: randomUUID(), user_id: userId, account_id: wallet.id, amount_minor: 1000, currency: 'USD', source_type: 'card', status, failure_reason: status === 'failed' ? 'card_declined' : null, workflow_id: workflowId });
    if (chargeStatus) {
      await trx('sandbox_funding_charges').insert({ charge_id: `${workflowId}:charge`, processor_charge_id: 'ch_test', token: 'tok_success', amount_minor: 1000, currency: 'USD', status: chargeStatus, calls: 1 });
    }
    return workflowId;
  }

  it('finds a funding that was charged but never credited', async () => {
    let workflowId = '';
    const found = await findings('each funding charged once', [], async (trx) => {
      workflowId = await funding(trx, 'failed', 'succeeded');
    });
    assert.ok(found.some((f) => f.includes(workflowId) && f.includes('charged')), found.join('\n'));
  });

  it('finds an effect of a request the client saw refused', async () => {
    const issued: Issued[] = [];
    const found = await findings('each funding charged once', issued, async (trx) => {
      const workflowId = await funding(trx, 'succeeded', 'succeeded');
      issued.push({ kind: 'funding', outcome: 'failed', status: 422, workflowId });
    });
    assert.ok(found.includes(`funding ${issued[0]?.workflowId}: the client saw 422 but it is succeeded`), found.join('\n'));
  });

  it('finds a request the client saw succeed that left no record', async () => {
    const workflowId = workflowIds.walletFunding(randomUUID(), randomUUID());
    const found = await findings('each funding charged once', [{ kind: 'funding', outcome: 'succeeded', status: 201, workflowId }], async () => undefined);
    assert.deepEqual(found, [`funding ${workflowId}: the client saw 201 but there is no wallet_fundings row`]);
  });

  it('finds an account whose totals differ from the sum of its transfers', async () => {
    let accountId = '';
    const found = await findings('every account equals', [], async (trx) => {
      const { wallet } = await customerWithWallet(trx, { balanceMinor: 500n });
      accountId = wallet.id;
      await trx('ledger_accounts').where({ id: accountId }).increment('credits_posted', 1);
    });
    assert.ok(found.some((f) => f.startsWith(`account ${accountId}:`)), found.join('\n'));
  });

  it('finds a posted transfer whose alert never went out', async () => {
    let key = '';
    const found = await findings('every message owed', [], async (trx) => {
      const { wallet } = await customerWithWallet(trx);
      const transferId = await deposit(trx, wallet.id, 700n);
      await trx('bank_postings').insert({ id: transferId, account_id: wallet.id, direction: 'credit', amount_minor: 700, currency: 'USD', code: 'deposit', description: 'test', status: 'succeeded', transfer_id: transferId, workflow_id: `posting:${randomUUID()}` });
      key = `alert:${transferId}:${wallet.id}`;
    });
    assert.ok(found.includes(`${key}: never sent`), found.join('\n'));
  });

  it('finds a failed bill payment the biller accepted', async () => {
    let workflowId = '';
    const found = await findings('each payment paid the biller once', [], async (trx) => {
      const { userId, wallet } = await customerWithWallet(trx);
      const id = randomUUID();
      workflowId = workflowIds.payment(userId, randomUUID());
      await trx('payments').insert({ id, user_id: userId, kind: 'bill', biller_id: 'brightgrid-power', customer_ref: '4820193755', from_account_id: wallet.id, amount_minor: 1000, currency: 'USD', status: 'failed', failure_reason: 'biller_declined', workflow_id: workflowId });
      await trx('sandbox_biller_payments').insert({ payment_id: id, biller_id: 'brightgrid-power', customer_ref: '4820193755', amount_minor: 1000, currency: 'USD', status: 'accepted', biller_reference: 'BRIGHTGRID-TEST', calls: 1 });
    });
    assert.ok(found.includes(`payment ${workflowId}: failed (refunded) but the biller accepted it`), found.join('\n'));
  });

  it('accepts a refusal recorded as failed', async () => {
    const issued: Issued[] = [];
    const found = await findings('each funding charged once', issued, async (trx) => {
      const workflowId = await funding(trx, 'failed', 'declined');
      issued.push({ kind: 'funding', outcome: 'failed', status: 422, workflowId });
    });
    assert.equal(found.filter((f) => f.includes(issued[0]?.workflowId as string)).length, 0, found.join('\n'));
  });

  it('finds a ready statement whose link never went out', async () => {
    const workflowId = workflowIds.statement(randomUUID(), randomUUID());
    const found = await findings('each statement asked for', [{ kind: 'statement', outcome: 'succeeded', status: 202, workflowId }], async (trx) => {
      const { userId, wallet } = await customerWithWallet(trx);
      await trx('statements').insert({ id: randomUUID(), workflow_id: workflowId, user_id: userId, account_id: wallet.id, source: 'api', last_n: 3, status: 'ready' });
    });
    assert.ok(found.includes(`statement ${workflowId}:link: 0 link messages`), found.join('\n'));
  });

  it("finds a card file whose counts do not add up to the file's rows", async () => {
    // Seed 4 draws a file with a card number in it (and a bad phone): two rows to reject.
    const file = cardFile(new Prng(4));
    const found = await findings('each card event recorded once', [{ kind: 'card_file', outcome: 'succeeded', status: 202, workflowId: `card-file:${file.fileId}`, expect: { line: 'card_file', file } }], async (trx) => {
      await trx('card_files').insert({ id: file.fileId, partner: file.partner, object_key: 'card-files/test.csv', source: 'upload', size_bytes: file.content.length, status: 'completed', rows_total: file.rows, accepted: file.rows, rejected: 0 });
    });
    assert.ok(found.some((f) => f.startsWith(`card file ${file.fileId.slice(0, 12)}: ${file.rows} rows, 0 rejected`)), found.join('\n'));
  });

  it('finds a card number kept in a rejected row', async () => {
    const file = cardFile(new Prng(4));
    const found = await findings('each card event recorded once', [{ kind: 'card_file', outcome: 'failed', status: 413, expect: { line: 'card_file', file } }], async (trx) => {
      await trx('card_files').insert({ id: file.fileId, partner: file.partner, object_key: 'card-files/test.csv', source: 'upload', size_bytes: 1 });
      await trx('card_file_rejects').insert({ file_id: file.fileId, line_no: 2, raw: `2,${file.pans[0]},501234567`, reason: 'test' });
    });
    assert.deepEqual(found, ['1 rows of the cards tables hold a card number']);
  });

  it('finds a PDF of a fetched mailbox that was never stored', async () => {
    const userId = randomUUID();
    const hash = 'ab'.repeat(32);
    const found = await findings('each invoice PDF stored once', [{ kind: 'mailbox', outcome: 'succeeded', status: 202, expect: { line: 'mailbox', userId, pdfHashes: [hash] } }], async () => undefined);
    assert.deepEqual(found, [`mailbox of ${userId}: PDF ${hash.slice(0, 12)} was never stored`, `mailbox of ${userId}: 0 invoices for 1 PDFs`]);
  });

  it('finds a consenting contact a launched campaign never messaged', async () => {
    const phone = `+1415${String(Date.now()).slice(-7)}`;
    let campaignId = '';
    const issued: Issued[] = [];
    const found = await findings('each campaign messaged', issued, async (trx) => {
      const [template] = await trx('campaign_templates').insert({ name: 't', channel: 'sms', body: 'Hi' }).returning<Array<{ id: string }>>('id');
      const [segment] = await trx('segments').insert({ name: 's', filters: '[]' }).returning<Array<{ id: string }>>('id');
      const [campaign] = await trx('campaigns').insert({ name: 'c', template_id: template?.id, segment_id: segment?.id, channel: 'sms', status: 'completed' }).returning<Array<{ id: string }>>('id');
      await trx('contacts').insert({ phone, sms_consent: 'opt_in' });
      campaignId = campaign?.id as string;
      issued.push({ kind: 'campaign', outcome: 'succeeded', status: 202, id: campaignId, expect: { line: 'campaign', campaignId, consenting: [phone], notConsenting: [] } });
    });
    assert.ok(found.some((f) => f.startsWith(`campaign:${campaignId}:`) && f.endsWith('consenting, no message, sent 0 times')), found.join('\n'));
  });

  it('finds nothing wrong with a funding charged and credited once', async () => {
    let workflowId = '';
    const found = await findings('each funding charged once', [], async (trx) => {
      const { userId, wallet } = await customerWithWallet(trx);
      workflowId = workflowIds.walletFunding(userId, randomUUID());
      const ledger = createLedger(trx);
      const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
      const transferId = randomUUID();
      await ledger.createTransfer({ id: transferId, debitAccountId: clearing.id, creditAccountId: wallet.id, amountMinor: 1000n, currency: 'USD', code: 'wallet_funding' });
      await trx('wallet_fundings').insert({ id: randomUUID(), user_id: userId, account_id: wallet.id, amount_minor: 1000, currency: 'USD', source_type: 'card', status: 'succeeded', transfer_id: transferId, workflow_id: workflowId });
      await trx('sandbox_funding_charges').insert({ charge_id: `${workflowId}:charge`, processor_charge_id: 'ch_test', token: 'tok_success', amount_minor: 1000, currency: 'USD', status: 'succeeded', calls: 1 });
    });
    assert.equal(found.filter((f) => f.includes(workflowId)).length, 0, found.join('\n'));
  });
});
