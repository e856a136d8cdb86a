import { runMain } from '../run';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { createLogger } from '../logger';
import { createClient, createNativeConnection, ensureHousekeepingSchedules, ensureSearchAttributes } from '../temporal/client';
import { createWorker } from './create-worker';
import { createPorts } from './deps';
import { installTemporalRuntime } from './runtime';
import { installTracing, tracingClientInterceptors } from '../observability/tracing';

/**
 * `npm run worker`: the production worker, configured only by the environment. An unset
 * NODE_ENV means production here: no development secrets, no sandbox money providers.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env, { defaultEnv: 'production' });
  const logger = createLogger(config, 'finflow-worker');
  installTemporalRuntime(logger, { metrics: config.observability.workerMetrics });
  const tracing = await installTracing(config, 'worker');
  const db = createDb(config);
  const client = createClient(config.temporal, tracing ? tracingClientInterceptors() : undefined);
  await ensureSearchAttributes(client, config.temporal.namespace);
  await ensureHousekeepingSchedules(client, config);
  const connection = await createNativeConnection(config.temporal);
  const ports = createPorts(config, { db });
  const { sms } = ports;
  if (sms.name === 'plivo' && !config.sms.statusCallbackUrl) logger.warn('no PUBLIC_URL or SMS_STATUS_CALLBACK_URL: Plivo will send no delivery receipts');
  const worker = await createWorker(config, { db, ...ports, now: () => new Date(), temporal: client }, { connection, tracing });
  // startupMs: from the process's start, so a slow start (a loaded host, a slow server) shows in the log.
  logger.info({ startupMs: Math.round(process.uptime() * 1000), taskQueue: worker.options.taskQueue, smsProvider: sms.name, emailProvider: ports.email.name, fundingProvider: ports.funding.name, billerProvider: ports.billers.name }, 'worker started');
  // Worker.run installs SIGINT/SIGTERM handlers and drains in-flight tasks before resolving.
  await worker.run();
  await connection.close();
  await client.connection.close();
  await db.destroy();
  await tracing?.shutdown();
  logger.info('worker stopped');
}

runMain(main);
