import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { loadConfig, withServices, type Config } from '../config';
import { createDb, migrateLatest } from '../db/knex';
import { createLogger } from '../logger';
import { createApp } from '../api/app';
import { CODEC_BASE_PATH } from '../api/codec/routes';
import { createClient, createNativeConnection, ensureHousekeepingSchedules, ensureSearchAttributes } from '../temporal/client';
import { createWorker } from '../worker/create-worker';
import { appPorts, createPorts } from '../worker/deps';
import { DeadlineError, withDeadline } from './deadline';
import { PortInUseError, isAddressInUse, isPortFree } from './ports';
import { startEmbeddedPostgres } from './postgres';
import { ServiceStartError } from './service';
import { startDevServer } from './temporal';
import { startLocalS3 } from './versitygw';
// Invoices: the mail catcher and the demo mailbox (docs/invoices.md).
import { startMailpit } from './mailpit';
import { connectDemoMailbox, startDemoMailbox } from './demo-mailbox';
import { seedDemoData, seedDemoStatementLines, DEMO_ACCOUNTS } from './seed';
import { installTemporalRuntime } from '../worker/runtime';

/**
 * `npm start`: the whole system on one machine with no configuration. PostgreSQL
 * (embedded, or DATABASE_URL), Temporal (the CLI dev server with its Web UI, or
 * TEMPORAL_ADDRESS), migrations, demo data, the worker and the API. Data lives in
 * FINFLOW_DATA_DIR so a second start reuses it. Ctrl-C stops everything in reverse.
 */

type Stop = () => Promise<unknown>;

async function main(): Promise<void> {
  // `npm start` is the one entry point where an unset NODE_ENV means development.
  const base = loadConfig(process.env, { defaultEnv: 'development' });
  const logger = createLogger(base, 'finflow');
  const stops: Stop[] = [];
  let stopping = false;
  const stopAll = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping finflow');
    while (stops.length > 0) await (stops.pop() as Stop)().catch((err: unknown) => logger.error({ err }, 'stop failed'));
    logger.info('finflow stopped');
    process.exit(exitCode);
  };
  // `on`, not `once`: a Ctrl-C reaches this process both from the terminal and relayed by
  // npm and tsx; a repeat must not fall through to Node's default and skip the orderly stop.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(signal));

  const step = <T>(what: string, work: Promise<T>) => withDeadline(what, base.startupTimeoutMs, work);
  try {
    // The API's port is checked first, so a second `npm start` fails before it starts anything.
    if (!(await isPortFree(base.http.port, base.http.host))) throw new PortInUseError('finflow API', base.http.port, 'PORT');
    // The worker's metrics endpoint binds when the Temporal runtime is installed: checked here, named by its variable.
    const metrics = base.observability.workerMetrics;
    if (!(await isPortFree(metrics.port, metrics.host))) throw new PortInUseError('worker metrics', metrics.port, 'WORKER_METRICS_PORT');
    // The orchestrator owns the signals so it can stop the worker before the servers it needs.
    installTemporalRuntime(logger, { level: 'WARN', shutdownSignals: [], metrics });
    const config = await startServices(base, logger, stops);
    const db = createDb(config);
    stops.push(() => db.destroy());
    const applied = await step('database migrations', migrateLatest(db));
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');

    const client = createClient(config.temporal);
    stops.push(() => client.connection.close());
    await step('Temporal search attributes to be registered', ensureSearchAttributes(client, config.temporal.namespace));
    await step('the housekeeping Schedules to be created', ensureHousekeepingSchedules(client, config));

    const connection = await step('the worker connection to Temporal', createNativeConnection(config.temporal));
    stops.push(() => connection.close());
    const ports = createPorts(config, { db });
    await step(`the ${config.storage.bucket} bucket`, ports.storage.ensureBucket());
    const worker = await step('the worker to bundle the workflows and start', createWorker(config, { db, ...ports, now: () => new Date(), temporal: client }, { connection }));
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await withDeadline('the worker to finish its in-flight tasks', 30_000, running);
    });

    const app = createApp(config, { db, temporal: client, logger, ...appPorts(ports) });
    await step('the demo data to be seeded', seedDemoData({ config, deps: { db, temporal: client, logger, ...appPorts(ports), now: () => new Date() } }, logger));
    await step('the demo statement lines to be seeded', seedDemoStatementLines({ config, deps: { db, temporal: client, logger, ...appPorts(ports), now: () => new Date() } }, logger));
    const demoImap = await step('the demo IMAP mailbox', startDemoMailbox(config.invoices.local.imapPort));
    stops.push(() => demoImap.stop());
    await step('the demo mailbox to be connected', connectDemoMailbox({ config, deps: { db, temporal: client, logger, ...appPorts(ports), now: () => new Date() } }, demoImap, logger));
    const server: Server = app.listen(config.http.port, config.http.host);
    await once(server, 'listening').catch((err: unknown) => {
      throw isAddressInUse(err) ? new PortInUseError('finflow API', config.http.port, 'PORT') : err;
    });
    stops.push(
      () =>
        new Promise((done) => {
          server.close(done);
          server.closeAllConnections();
        }),
    );
    printBanner(config);
  } catch (err) {
    if (err instanceof ServiceStartError || err instanceof PortInUseError || err instanceof DeadlineError) {
      // These messages are written for a person: name, port, command, the service's own output.
      process.stderr.write(`\nfinflow failed to start: ${err.message}\n\n`);
    } else {
      logger.error({ err }, 'finflow failed to start');
    }
    await stopAll('startup-failure', 1);
  }
}

async function startServices(config: Config, logger: ReturnType<typeof createLogger>, stops: Stop[]): Promise<Config> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  // They start together; each registers its stop as soon as it runs, so a failure of one
  // still stops the others in order.
  const [database, temporal, storage] = await Promise.allSettled([
    (async () => {
      if (config.database.url) return config.database.url;
      const pg = await startEmbeddedPostgres({
        dataDir: join(dataDir, 'postgres'),
        port: config.database.embeddedPort,
        portEnvVar: 'EMBEDDED_PG_PORT',
        database: 'finflow',
        timeoutMs: config.startupTimeoutMs,
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
        timeoutMs: config.startupTimeoutMs,
      });
      stops.push(() => env.teardown());
      logger.info({ port: config.temporal.devPort }, 'Temporal dev server started');
      return env.address;
    })(),
    (async () => {
      if (config.storage.endpoint) return config.storage;
      const s3 = await startLocalS3({
        dataDir: join(dataDir, 's3'),
        port: config.storage.localPort,
        portEnvVar: 'LOCAL_S3_PORT',
        accessKeyId: LOCAL_S3_KEYS.accessKeyId,
        secretAccessKey: LOCAL_S3_KEYS.secretAccessKey,
        timeoutMs: config.startupTimeoutMs,
      });
      stops.push(() => s3.stop());
      logger.info({ port: s3.port }, 'local S3 server (versitygw) started');
      return { ...config.storage, endpoint: s3.endpoint, ...LOCAL_S3_KEYS, forcePathStyle: true };
    })(),
  ]);
  if (database.status === 'rejected') throw database.reason;
  if (temporal.status === 'rejected') throw temporal.reason;
  if (storage.status === 'rejected') throw storage.reason;
  return { ...withServices(config, database.value, temporal.value), storage: storage.value, email: await startMailCatcher(config, dataDir, logger, stops) };
}

/**
 * Unless EMAIL_PROVIDER=smtp names a server, the email port sends to a local mailpit
 * whose web UI shows every email finflow sent. Without Go to build mailpit, emails stay
 * in the sandbox outbox (GET /v1/operator/notifications) and the log says why.
 */
async function startMailCatcher(config: Config, dataDir: string, logger: ReturnType<typeof createLogger>, stops: Stop[]): Promise<Config['email']> {
  if (config.email.provider === 'smtp') return config.email;
  try {
    const { smtpPort, uiPort } = { smtpPort: config.invoices.local.mailpitSmtpPort, uiPort: config.invoices.local.mailpitUiPort };
    const mailpit = await startMailpit({ dataDir: join(dataDir, 'mailpit'), smtpPort, uiPort, timeoutMs: config.startupTimeoutMs });
    stops.push(() => mailpit.stop());
    logger.info({ smtp: mailpit.smtpPort, ui: mailpit.uiUrl }, 'mail catcher (mailpit) started');
    return { ...config.email, provider: 'smtp', smtp: { host: '127.0.0.1', port: mailpit.smtpPort, secure: false, user: undefined, password: undefined } };
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'mail catcher (mailpit) not started: emails stay in the sandbox outbox');
    return config.email;
  }
}

/** The local S3 server's keys: it listens on 127.0.0.1 only and holds demo data. */
const LOCAL_S3_KEYS = { accessKeyId: 'finflow-local', secretAccessKey: 'finflow-local-secret' };

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
    `  metrics        API ${api}/metrics, worker http://${config.observability.workerMetrics.host}:${config.observability.workerMetrics.port}/metrics (docs/observability.md)`,
    `  payload codec  ${api}${CODEC_BASE_PATH} (operators sign in at ${api}${CODEC_BASE_PATH}/login; docs/security.md)`,
    `  object storage ${config.storage.endpoint ?? `AWS S3 (${config.storage.region})`}, bucket ${config.storage.bucket}`,
    `  emails         ${config.email.provider === 'smtp' && config.email.smtp.host === '127.0.0.1' && config.email.smtp.port === config.invoices.local.mailpitSmtpPort ? `mail catcher (mailpit) http://127.0.0.1:${config.invoices.local.mailpitUiPort}` : config.email.provider === 'smtp' ? `SMTP ${config.email.smtp.host}:${config.email.smtp.port}` : 'sandbox (outbox: GET /v1/operator/notifications)'}`,
    `  demo mailbox   IMAP 127.0.0.1:${config.invoices.local.imapPort} (connected to the demo customer: GET /v1/invoices)`,
    `  SMS            ${config.sms.provider}${config.sms.provider === 'sandbox' ? ' (outbox: GET /v1/operator/notifications)' : ''}`,
    `  funding        ${config.funding.provider}${config.funding.provider === 'sandbox' ? ' (test tokens: docs/wallet.md)' : ''}`,
    `  billers        ${config.billers.provider}${config.billers.provider === 'sandbox' ? ' (scripted references: docs/payments.md)' : ''}`,
    `  demo customer  ${DEMO_ACCOUNTS.customer.email} / ${DEMO_ACCOUNTS.customer.password}`,
    `  friend         ${DEMO_ACCOUNTS.friend.email} / ${DEMO_ACCOUNTS.friend.password}`,
    `  operator       ${DEMO_ACCOUNTS.operator.email} / ${DEMO_ACCOUNTS.operator.password}`,
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
