import { runMain } from '../run';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { createLogger } from '../logger';
import { createSandboxNotifier } from '../providers/sandbox-notifier';
import { createClient, createNativeConnection, ensureHousekeepingSchedules, ensureSearchAttributes } from '../temporal/client';
import { createWorker } from './create-worker';

/** `npm run worker`: the production worker, configured only by the environment. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'finflow-worker');
  const db = createDb(config);
  const client = createClient(config.temporal);
  await ensureSearchAttributes(client, config.temporal.namespace);
  await ensureHousekeepingSchedules(client, config);
  const connection = await createNativeConnection(config.temporal);
  const worker = await createWorker(config, { db, notifier: createSandboxNotifier(db), now: () => new Date() }, { connection });
  logger.info({ taskQueue: worker.options.taskQueue }, 'worker started');
  // Worker.run installs SIGINT/SIGTERM handlers and drains in-flight tasks before resolving.
  await worker.run();
  await connection.close();
  await client.connection.close();
  await db.destroy();
  logger.info('worker stopped');
}

runMain(main);
