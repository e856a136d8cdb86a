import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { createActivities, type ActivityDeps } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { applyConsentKeyword } from '../../src/campaigns/contacts';
import { SmsSendError, type SmsProvider } from '../../src/providers/sms';
import { createSandboxSms } from '../../src/providers/sms/sandbox';
import { campaignRollout } from '../../src/workflows';
import { pauseCampaignUpdate, resumeCampaignUpdate, rolloutProgressQuery } from '../../src/workflows/campaigns/contract';
import { campaignFixture, consentingContacts, duplicateSends, insertContacts, newRun, statusCounts } from '../helpers/campaigns';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { workflowTestBed } from '../helpers/services';
import { eventually } from '../helpers/wait';

/**
 * campaignRollout and its batches on the time-skipping server, with real PostgreSQL and
 * the sandbox SMS provider: quiet hours in three timezones (the waits are durable timers
 * the server skips), consent at send time, pause/resume and a provider outage.
 */
describe('campaignRollout workflow (time-skipping server)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  async function worker(sms: SmsProvider, overrides: Partial<ActivityDeps> = {}) {
    const taskQueue = uniqueTaskQueue('campaign');
    const deps = testActivityDeps(db, { sms, campaignSend: { senderRatePerSecond: 200, staleClaimMs: 1000, batchSize: 10 }, ...overrides });
    return { taskQueue, worker: await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(deps) }) };
  }

  const start = (taskQueue: string, campaignId: string) =>
    env.client.workflow.start(campaignRollout, { taskQueue, workflowId: `campaign:${campaignId}`, args: [{ campaignId }] });

  it('sends to every consenting contact once and completes the campaign', async () => {
    const run = newRun();
    await insertContacts(db, consentingContacts(run, 25));
    const { campaignId } = await campaignFixture(db, { run });
    const { taskQueue, worker: w } = await worker(createSandboxSms({ db }));
    const result = await w.runUntil(start(taskQueue, campaignId).then((h) => h.result()));
    assert.deepEqual(result, { status: 'completed', batchCount: 3 });
    assert.deepEqual(await statusCounts(db, campaignId), { sent: 25 });
    assert.equal(await duplicateSends(db, campaignId), 0);
    assert.equal((await db('campaigns').where({ id: campaignId }).first()).status, 'completed');
  });

  describe('quiet hours in three timezones', () => {
    // Twelve quiet hours starting an hour before London's current hour: London (UTC+0 in
    // December) and Tokyo (+9) are inside them now, Los Angeles (-8) is not.
    const zones = ['Europe/London', 'Asia/Tokyo', 'America/Los_Angeles'];
    let campaignId: string;
    let quietHours: { start: string; end: string };
    let startedAt: Date;

    before(async function () {
      this.timeout(180_000);
      startedAt = new Date(await env.currentTimeMs());
      const londonHour = DateTime.fromJSDate(startedAt, { zone: 'Europe/London' }).hour;
      const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
      quietHours = { start: hh(londonHour - 1), end: hh(londonHour + 11) };
      const run = newRun();
      for (const zone of zones) await insertContacts(db, consentingContacts(run, 4, zone));
      ({ campaignId } = await campaignFixture(db, { run, quietHours }));
      const { taskQueue, worker: w } = await worker(createSandboxSms({ db }));
      await w.runUntil(start(taskQueue, campaignId).then((h) => h.result()));
    });

    const sentIn = (zone: string) =>
      db('campaign_messages as m').join('contacts as c', 'c.id', 'm.contact_id').where({ 'm.campaign_id': campaignId, 'c.timezone': zone }).select('m.status', 'm.window_at');

    it('sends to every contact in the end', async () => {
      assert.deepEqual(await statusCounts(db, campaignId), { sent: 12 });
    });

    for (const zone of zones) {
      it(`sends nothing inside quiet hours in ${zone}`, async () => {
        const [start, end] = [quietHours.start, quietHours.end].map((t) => Number(t.slice(0, 2)));
        for (const { window_at: at } of await sentIn(zone)) {
          const local = DateTime.fromJSDate(at, { zone });
          const hour = local.hour + local.minute / 60;
          const quiet = (start as number) < (end as number) ? hour >= (start as number) && hour < (end as number) : hour >= (start as number) || hour < (end as number);
          assert.ok(!quiet, `${zone}: sent at local ${local.toFormat('HH:mm')}, quiet ${quietHours.start}-${quietHours.end}`);
        }
      });
    }

    it('holds the contacts inside quiet hours until their window opens, and sends the others at once', async () => {
      const hoursAfterStart = async (zone: string) => ((await sentIn(zone))[0]?.window_at.getTime() - startedAt.getTime()) / 3_600_000;
      assert.ok((await hoursAfterStart('America/Los_Angeles')) < 0.5);
      assert.ok((await hoursAfterStart('Europe/London')) > 10);
      assert.ok((await hoursAfterStart('Asia/Tokyo')) > 1);
    });
  });

  it('skips a contact whose STOP arrived mid-campaign, before its message went', async () => {
    const run = newRun();
    const contacts = await insertContacts(db, consentingContacts(run, 6));
    const { campaignId } = await campaignFixture(db, { run, ratePerSecond: 4 });
    const last = contacts.reduce((a, b) => (a.id > b.id ? a : b)); // planned last: seq follows contact id
    const sandbox = createSandboxSms({ db });
    let stopped = false;
    const sms: SmsProvider = {
      ...sandbox,
      async send(message) {
        const sent = await sandbox.send(message);
        if (!stopped) {
          stopped = true;
          await applyConsentKeyword(db, { phone: last.phone, channel: 'sms', kind: 'opt_out', at: new Date(), source: 'keyword:STOP' });
        }
        return sent;
      },
    };
    const { taskQueue, worker: w } = await worker(sms);
    await w.runUntil(start(taskQueue, campaignId).then((h) => h.result()));
    assert.deepEqual(await statusCounts(db, campaignId), { sent: 5, skipped_no_consent: 1 });
    assert.equal(await db('sandbox_sms_messages').where({ to_phone: last.phone }).first(), undefined);
  });

  it('records a render error for the one contact it concerns and sends the rest', async () => {
    const run = newRun();
    const [broken] = await insertContacts(db, [{ phone: consentingContacts(run, 1)[0]?.phone as string, attributes: { run }, consent: { sms: { status: 'opt_in' } } }]);
    await insertContacts(db, consentingContacts(run, 3));
    const { campaignId } = await campaignFixture(db, { run });
    const { taskQueue, worker: w } = await worker(createSandboxSms({ db }));
    await w.runUntil(start(taskQueue, campaignId).then((h) => h.result()));
    assert.deepEqual(await statusCounts(db, campaignId), { sent: 3, skipped_render_error: 1 });
    const row = await db('campaign_messages').where({ campaign_id: campaignId, contact_id: broken?.id }).first();
    assert.equal(row.error_reason, 'missing_placeholder: first_name');
  });

  it('rides out a provider outage with retries: nothing lost, nothing sent twice', async () => {
    const run = newRun();
    await insertContacts(db, consentingContacts(run, 12));
    const { campaignId } = await campaignFixture(db, { run });
    const sandbox = createSandboxSms({ db });
    let calls = 0;
    const sms: SmsProvider = {
      ...sandbox,
      async send(message) {
        calls++;
        if (calls >= 4 && calls <= 6) throw new SmsSendError('provider_error', true, 'HTTP 503: down for maintenance');
        return sandbox.send(message);
      },
    };
    const { taskQueue, worker: w } = await worker(sms);
    await w.runUntil(start(taskQueue, campaignId).then((h) => h.result()));
    assert.deepEqual(await statusCounts(db, campaignId), { sent: 12 });
    assert.equal(await duplicateSends(db, campaignId), 0);
  });

  it('pauses on the pause update and finishes after resume', async () => {
    const run = newRun();
    await insertContacts(db, consentingContacts(run, 20));
    const { campaignId } = await campaignFixture(db, { run, ratePerSecond: 10 });
    const { taskQueue, worker: w } = await worker(createSandboxSms({ db }));
    await w.runUntil(async () => {
      const handle = await start(taskQueue, campaignId);
      await eventually('a first message sent', async () => ((await statusCounts(db, campaignId)).sent ? true : undefined));
      assert.deepEqual(await handle.executeUpdate(pauseCampaignUpdate), { status: 'paused' });
      // Every running batch has handed back: the rollout holds them as deferred.
      await eventually('the batches to stop', async () => {
        const progress = await handle.query(rolloutProgressQuery);
        return progress && progress.deferred.length + progress.batchCount - progress.nextBatch === progress.batchCount ? true : undefined;
      });
      const pausedCounts = await statusCounts(db, campaignId);
      assert.ok((pausedCounts.queued ?? 0) > 0, 'some messages still queued while paused');
      assert.equal((await db('campaigns').where({ id: campaignId }).first()).status, 'paused');
      await handle.executeUpdate(resumeCampaignUpdate);
      assert.deepEqual(await handle.result(), { status: 'completed', batchCount: 2 });
    });
    assert.deepEqual(await statusCounts(db, campaignId), { sent: 20 });
  });
});
