import { runMain } from '../run';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { createLogger } from '../logger';
import { createLedger } from '../ledger/service';
import { createSandboxFundingProcessor } from '../providers/funding/sandbox';
import { createBillerPort } from '../payments/billers';
import { createNotifier } from '../providers/notifier';
import { createSmsProvider } from '../providers/sms';
import { createEmailProvider } from '../providers/email';
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
  const sms = createSmsProvider(config, db);
  if (sms.name === 'plivo' && !config.sms.statusCallbackUrl) logger.warn('no PUBLIC_URL or SMS_STATUS_CALLBACK_URL: Plivo will send no delivery receipts');
  const deps = { db, notifier: createNotifier({ db, sms, email: createEmailProvider(config, db) }), ledger: createLedger(db), funding: createSandboxFundingProcessor(db), billers: createBillerPort(db), now: () => new Date(), temporal: client };
  const worker = await createWorker(config, deps, { connection });
  logger.info({ taskQueue: worker.options.taskQueue, smsProvider: sms.name }, 'worker started');
  // Worker.run installs SIGINT/SIGTERM handlers and drains in-flight tasks before resolving.
  await worker.run();
  await connection.close();
  await client.connection.close();
  await db.destroy();
  logger.info('worker stopped');
}

runMain(main);
