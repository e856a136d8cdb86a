import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { applyCampaignReceipt } from '../../src/campaigns/repository';
import { createSandboxSms, SANDBOX_UNDELIVERED_REASON, type SandboxSmsOptions } from '../../src/providers/sms/sandbox';
import { campaignRollout } from '../../src/workflows';
import { campaignFixture, consentingContacts, insertContacts, newRun, statusCounts } from '../helpers/campaigns';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { workflowTestBed } from '../helpers/services';
import { eventually } from '../helpers/wait';

/**
 * The sandbox provider's simulated receipts for campaign messages (docs/campaigns.md,
 * "Providers"): they go through applyCampaignReceipts, the forward-only path of the
 * Twilio and Plivo callbacks, whether they come at once (parked until the batch records
 * the send) or later, and they simulate failures and WhatsApp's `read`.
 */
describe('sandbox receipts for campaign messages (time-skipping server)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  /** Runs a campaign to `count` fresh contacts on a sandbox with `receipts`; answers its id. */
  async function runCampaign(receipts: SandboxSmsOptions['receipts'], options: { count?: number; channel?: 'sms' | 'whatsapp' } = {}): Promise<string> {
    const run = newRun();
    await insertContacts(db, consentingContacts(run, options.count ?? 12));
    const { campaignId } = await campaignFixture(db, { run, channel: options.channel ?? 'sms' });
    const taskQueue = uniqueTaskQueue('campaign-receipts');
    const sms = createSandboxSms({ db, ...(receipts ? { receipts } : {}) });
    const deps = testActivityDeps(db, { sms, campaignSend: { senderRatePerSecond: 200, staleClaimMs: 1000, batchSize: 5 } });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(deps) });
    await worker.runUntil(env.client.workflow.execute(campaignRollout, { taskQueue, workflowId: `campaign:${campaignId}`, args: [{ campaignId }] }));
    return campaignId;
  }

  const backlog = async () => Number((await db('campaign_receipt_backlog').count<Array<{ count: string }>>('* as count'))[0]?.count);

  it('moves every SMS message on to delivered when receipts come at once', async () => {
    const campaignId = await runCampaign({ delayMs: 0, failedPercent: 0 });
    assert.deepEqual(await statusCounts(db, campaignId), { delivered: 12 });
  });

  it('keeps each receipt with its message', async () => {
    const campaignId = await runCampaign({ delayMs: 0, failedPercent: 0 });
    const rows = await db('campaign_messages').where({ campaign_id: campaignId }).select<Array<{ receipts: Array<{ status: string }>; delivered_at: Date | null }>>('receipts', 'delivered_at');
    assert.deepEqual(
      rows.map((r) => [r.receipts.map((x) => x.status), r.delivered_at instanceof Date]),
      rows.map(() => [['delivered'], true]),
    );
  });

  it('leaves no receipt parked once the campaign has completed', async () => {
    await runCampaign({ delayMs: 0, failedPercent: 0 });
    assert.equal(await backlog(), 0);
  });

  it('ends WhatsApp messages read', async () => {
    const campaignId = await runCampaign({ delayMs: 0, failedPercent: 0 }, { channel: 'whatsapp' });
    assert.deepEqual(await statusCounts(db, campaignId), { read: 12 });
  });

  it('fails the configured share of messages with the reason', async () => {
    const campaignId = await runCampaign({ delayMs: 0, failedPercent: 100 });
    const rows = await db('campaign_messages').where({ campaign_id: campaignId }).distinct<Array<{ status: string; error_reason: string }>>('status', 'error_reason');
    assert.deepEqual(rows, [{ status: 'failed', error_reason: SANDBOX_UNDELIVERED_REASON }]);
  });

  it('applies receipts that arrive after the send was recorded', async () => {
    const campaignId = await runCampaign({ delayMs: 300, failedPercent: 0 });
    assert.deepEqual(
      await eventually('every receipt', async () => {
        const counts = await statusCounts(db, campaignId);
        return counts.delivered === 12 ? counts : undefined;
      }),
      { delivered: 12 },
    );
  });

  it('sends no receipt when receipts are off: the messages stay sent', async () => {
    const campaignId = await runCampaign(undefined);
    assert.deepEqual(await statusCounts(db, campaignId), { sent: 12 });
  });

  it('never moves a read message back by a late delivered receipt, but keeps the receipt', async () => {
    const campaignId = await runCampaign({ delayMs: 0, failedPercent: 0 }, { count: 1, channel: 'whatsapp' });
    const message = await db('campaign_messages').where({ campaign_id: campaignId }).first<{ provider_message_id: string }>('provider_message_id');
    const late = await applyCampaignReceipt(db, { provider: 'sandbox', providerMessageId: message.provider_message_id }, { status: 'delivered', raw: { late: true } });
    const row = await db('campaign_messages').where({ campaign_id: campaignId }).first<{ status: string; receipts: unknown[] }>('status', 'receipts');
    assert.deepEqual([late, row.status, row.receipts.length], [{ matched: true, applied: false }, 'read', 3]);
  });
});
