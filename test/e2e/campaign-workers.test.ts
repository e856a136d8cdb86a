import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../src/temporal/client';
import type { CampaignRolloutWorkflow } from '../../src/workflows/campaigns/contract';
import { campaignFixture, consentingContacts, duplicateSends, insertContacts, newRun, statusCounts } from '../helpers/campaigns';
import { uniqueTaskQueue } from '../helpers/fixtures';
import { postgresUrl, stack, workflowBundle, type Stack } from '../helpers/services';
import { eventually } from '../helpers/wait';

/**
 * Campaign sending across worker processes on the Temporal dev server, in real time:
 * the sender's rate holds over every one-second window with three activity workers
 * sharing it, and a worker killed (SIGKILL) in the middle of a batch leaves no message
 * sent twice. The workflows run on a worker in this process; the activities in child
 * processes (test/helpers/campaign-worker.ts), one worker each.
 */
describe('campaign sending across worker processes (dev server)', function () {
  this.timeout(240_000);
  let s: Stack;
  const children: ChildProcess[] = [];

  before(async function () {
    this.timeout(180_000);
    s = await stack();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
  });

  async function activityWorker(taskQueue: string, ratePerSecond: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/campaign-worker.ts'], {
      env: { ...process.env, DATABASE_URL: await postgresUrl(), TEMPORAL_ADDRESS: s.temporal.address, TASK_QUEUE: taskQueue, CAMPAIGN_RATE: String(ratePerSecond) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`campaign worker exited with ${code}`)));
    });
    return child;
  }

  /** Runs `body` with a workflows-only worker for the task queue in this process. */
  async function withWorkflowWorker<T>(taskQueue: string, body: () => Promise<T>): Promise<T> {
    const worker = await Worker.create({
      connection: s.temporal.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      dataConverter: dataConverter(s.config.temporal),
      shutdownGraceTime: '1s',
    });
    return worker.runUntil(body());
  }

  /** The largest number of sends inside any one-second window (half-open), from the provider's own timestamps. */
  async function busiestSecond(campaignId: string): Promise<number> {
    const rows = await s.db('sandbox_sms_messages').where('reference', 'like', `campaign:${campaignId}:%`).orderBy('sent_at').select<Array<{ sent_at: Date }>>('sent_at');
    const times = rows.map((r) => r.sent_at.getTime());
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[j] as number) <= (times[i] as number) - 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    return busiest;
  }

  it('never exceeds the sender rate in any one-second window with three workers', async () => {
    const RATE = 25;
    const run = newRun();
    await insertContacts(s.db, consentingContacts(run, 150));
    const { campaignId } = await campaignFixture(s.db, { run, ratePerSecond: RATE });
    const taskQueue = uniqueTaskQueue('campaign-rate');
    await Promise.all([1, 2, 3].map(() => activityWorker(taskQueue, RATE)));
    const result = await withWorkflowWorker(taskQueue, () =>
      s.client.workflow.execute<CampaignRolloutWorkflow>('campaignRollout', { taskQueue, workflowId: `campaign:${campaignId}`, args: [{ campaignId }] }),
    );
    assert.equal(result.status, 'completed');
    assert.deepEqual(await statusCounts(s.db, campaignId), { sent: 150 });
    const busiest = await busiestSecond(campaignId);
    assert.ok(busiest <= RATE, `busiest second had ${busiest} sends, limit ${RATE}`);
  });

  it('sends no message twice when a worker is killed in the middle of a batch', async () => {
    const run = newRun();
    await insertContacts(s.db, consentingContacts(run, 40));
    const { campaignId } = await campaignFixture(s.db, { run });
    const taskQueue = uniqueTaskQueue('campaign-kill');
    const doomed = await activityWorker(taskQueue, 10);
    const sent = async () => Number((await s.db('sandbox_sms_messages').where('reference', 'like', `campaign:${campaignId}:%`).count<Array<{ count: string }>>('* as count'))[0]?.count);
    await withWorkflowWorker(taskQueue, async () => {
      const handle = await s.client.workflow.start<CampaignRolloutWorkflow>('campaignRollout', { taskQueue, workflowId: `campaign:${campaignId}`, args: [{ campaignId }] });
      await eventually('a few sends', async () => ((await sent()) >= 6 ? true : undefined));
      doomed.kill('SIGKILL');
      await once(doomed, 'exit');
      assert.ok((await sent()) < 40, 'killed before the campaign finished');
      await activityWorker(taskQueue, 10);
      assert.equal((await handle.result()).status, 'completed');
    });
    // Messages the killed worker had sent are reconciled from the provider, which already says `delivered`.
    const counts = await statusCounts(s.db, campaignId);
    assert.equal((counts.sent ?? 0) + (counts.delivered ?? 0), 40, JSON.stringify(counts));
    assert.equal(await duplicateSends(s.db, campaignId), 0);
  });
});
