/**
 * An activities-only campaign worker in a process of its own, for the tests that need
 * several workers on one task queue (one process may register only one) or a worker to
 * SIGKILL. Configured by environment: DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE,
 * CAMPAIGN_RATE; prints `ready` once it polls.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { withServices } from '../../src/config';
import { createDb } from '../../src/db/knex';
import { createActivities } from '../../src/activities';
import { createSandboxSms } from '../../src/providers/sms/sandbox';
import { dataConverter } from '../../src/temporal/client';
import { testActivityDeps } from './fixtures';
import { testConfig } from './services';

async function main(): Promise<void> {
  const { DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE, CAMPAIGN_RATE } = process.env;
  if (!DATABASE_URL || !TEMPORAL_ADDRESS || !TASK_QUEUE || !CAMPAIGN_RATE) throw new Error('DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE and CAMPAIGN_RATE are required');
  const config = withServices(testConfig(), DATABASE_URL, TEMPORAL_ADDRESS);
  const db = createDb(config);
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: TASK_QUEUE,
    dataConverter: dataConverter(config.temporal),
    activities: createActivities(testActivityDeps(db, { sms: createSandboxSms({ db }), campaignSend: { senderRatePerSecond: Number(CAMPAIGN_RATE), staleClaimMs: 1000, batchSize: 10 } })),
    shutdownGraceTime: '1s',
  });
  process.on('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
  await db.destroy();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
