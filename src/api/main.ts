import { runMain } from '../run';
import { once } from 'node:events';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { createLogger } from '../logger';
import { createClient } from '../temporal/client';
import { appPorts, createPorts } from '../worker/deps';
import { createApp } from './app';
import { installTracing, tracingClientInterceptors } from '../observability/tracing';

/**
 * `npm run api`: the production API process, configured only by the environment. An
 * unset NODE_ENV means production here: no development secrets, no sandbox providers.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env, { defaultEnv: 'production' });
  const logger = createLogger(config, 'finflow-api');
  const tracing = await installTracing(config, 'api');
  const db = createDb(config);
  const temporal = createClient(config.temporal, tracing ? tracingClientInterceptors() : undefined);
  const server = createApp(config, { db, temporal, logger, ...appPorts(createPorts(config, { db })) }).listen(config.http.port, config.http.host);
  await once(server, 'listening');
  logger.info({ port: config.http.port }, 'api listening');

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'api shutting down');
    server.close(() => {
      void Promise.allSettled([db.destroy(), temporal.connection.close(), tracing?.shutdown()]).then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

runMain(main);
