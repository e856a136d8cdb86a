import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, withServices, type Config } from '../config';
import { createDb, migrateLatest } from '../db/knex';
import { createLogger } from '../logger';
import { createLedger } from '../ledger/service';
import { createSandboxFundingProcessor } from '../providers/funding/sandbox';
import { createBillerPort } from '../payments/billers';
import { createApp } from '../api/app';
import { CODEC_BASE_PATH } from '../api/codec/routes';
import { createNotifier } from '../providers/notifier';
import { createSmsProvider } from '../providers/sms';
import { createClient, createNativeConnection, ensureHousekeepingSchedules, ensureSearchAttributes } from '../temporal/client';
import { createWorker } from '../worker/create-worker';
import { startEmbeddedPostgres } from './postgres';
import { startDevServer } from './temporal';
import { seedDemoData, DEMO_ACCOUNTS } from './seed';

/**
 * `npm start`: the whole system on one machine with no configuration. PostgreSQL
 * (embedded, or DATABASE_URL), Temporal (the CLI dev server with its Web UI, or
 * TEMPORAL_ADDRESS), migrations, demo data, the worker and the API. Data lives in
 * FINFLOW_DATA_DIR so a second start reuses it. Ctrl-C stops everything in reverse.
 */

type Stop = () => Promise<unknown>;

async function main(): Promise<void> {
  const base = loadConfig();
  const logger = createLogger(base, 'finflow');
  const stops: Stop[] = [];
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping finflow');
    while (stops.length > 0) await (stops.pop() as Stop)().catch((err: unknown) => logger.error({ err }, 'stop failed'));
    logger.info('finflow stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll(signal));
  // The orchestrator owns the signals so it can stop the worker before the servers it needs.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  try {
    const config = await startServices(base, logger, stops);
    const db = createDb(config);
    stops.push(() => db.destroy());
    const applied = await migrateLatest(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');

    const client = createClient(config.temporal);
    stops.push(() => client.connection.close());
    await ensureSearchAttributes(client, config.temporal.namespace);
    await ensureHousekeepingSchedules(client, config);

    const connection = await createNativeConnection(config.temporal);
    stops.push(() => connection.close());
    const sms = createSmsProvider(config, db);
    const deps = { db, notifier: createNotifier({ db, sms }), ledger: createLedger(db), funding: createSandboxFundingProcessor(db), billers: createBillerPort(db), now: () => new Date(), temporal: client };
    const worker = await createWorker(config, deps, { connection });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
    });

    const app = createApp(config, { db, temporal: client, logger });
    await seedDemoData({ config, deps: { db, temporal: client, logger, now: () => new Date() } }, logger);
    const server: Server = app.listen(config.http.port, config.http.host);
    await once(server, 'listening');
    stops.push(
      () =>
        new Promise((done) => {
          server.close(done);
          server.closeAllConnections();
        }),
    );
    printBanner(config);
  } catch (err) {
    logger.error({ err }, 'finflow failed to start');
    await stopAll('startup-failure');
  }
}

async function startServices(config: Config, logger: ReturnType<typeof createLogger>, stops: Stop[]): Promise<Config> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const [databaseUrl, temporalAddress] = await Promise.all([
    (async () => {
      if (config.database.url) return config.database.url;
      const pg = await startEmbeddedPostgres({
        dataDir: join(dataDir, 'postgres'),
        port: config.database.embeddedPort,
        database: 'finflow',
        persistent: true,
      });
      stops.push(() => pg.stop());
      logger.info({ port: config.database.embeddedPort }, 'embedded PostgreSQL started');
      return pg.url;
    })(),
    (async () => {
      if (config.temporal.address) return config.temporal.address;
      const env = await startDevServer({
        port: config.temporal.devPort,
        uiPort: config.temporal.uiPort,
        dbFilename: join(dataDir, 'temporal.sqlite'),
        namespace: config.temporal.namespace,
        uiCodecEndpoint: `${apiUrl(config)}${CODEC_BASE_PATH}`,
      });
      stops.push(() => env.teardown());
      logger.info({ port: config.temporal.devPort }, 'Temporal dev server started');
      return env.address;
    })(),
  ]);
  return withServices(config, databaseUrl, temporalAddress);
}

/** Where a browser on this machine reaches the API. */
function apiUrl(config: Config): string {
  return (config.http.publicUrl ?? `http://localhost:${config.http.port}`).replace(/\/+$/, '');
}

function printBanner(config: Config): void {
  const api = apiUrl(config);
  const ui = config.temporal.uiUrl ?? `http://localhost:${config.temporal.uiPort}`;
  const lines = [
    '',
    'finflow is running',
    `  API            ${api}`,
    `  API docs       ${api}/docs`,
    `  Temporal UI    ${ui}`,
    `  payload codec  ${api}${CODEC_BASE_PATH} (operators sign in at ${api}${CODEC_BASE_PATH}/login; docs/security.md)`,
    `  SMS            ${config.sms.provider}${config.sms.provider === 'sandbox' ? ' (outbox: GET /v1/operator/notifications)' : ''}`,
    `  demo customer  ${DEMO_ACCOUNTS.customer.email} / ${DEMO_ACCOUNTS.customer.password}`,
    `  friend         ${DEMO_ACCOUNTS.friend.email} / ${DEMO_ACCOUNTS.friend.password}`,
    `  operator       ${DEMO_ACCOUNTS.operator.email} / ${DEMO_ACCOUNTS.operator.password}`,
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
