import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../src/api/app';
import { withServices, type Config } from '../../src/config';
import { createDb, migrateLatest, type Db } from '../../src/db/knex';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { client, type HttpResponse } from '../helpers/http';
import { devServer, freePort, startRestartablePostgres, testConfig, type RestartablePostgres } from '../helpers/services';
import { appPorts, createPorts } from '../../src/worker/deps';

/**
 * Readiness and failure behaviour against real dependencies that this file takes down:
 * its own PostgreSQL (stopped and restarted on the same data and port) and a Temporal
 * address nobody listens on. The shared test database is never touched.
 */

const DEPENDENCY_TIMEOUT_MS = '1000';

interface RunningApp {
  call: ReturnType<typeof client>;
  close(): Promise<void>;
}

async function startApp(config: Config, db: Db): Promise<RunningApp> {
  const temporal = createClient(config.temporal);
  const server: Server = createApp(config, { db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db })) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    call: client(`http://127.0.0.1:${port}`),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
    },
  };
}

/** The response and how long it took, for "answers quickly, never hangs". */
async function timed(send: () => Promise<HttpResponse>): Promise<HttpResponse & { elapsedMs: number }> {
  const started = performance.now();
  const res = await send();
  return { ...res, elapsedMs: performance.now() - started };
}

describe('health and dependency outages (e2e)', function () {
  let pg: RestartablePostgres;
  let temporalServer: TestWorkflowEnvironment;
  let config: Config;
  let db: Db;
  let app: RunningApp;

  before(async function () {
    this.timeout(120_000);
    [pg, temporalServer] = await Promise.all([startRestartablePostgres(), devServer()]);
    config = withServices(testConfig({ DEPENDENCY_TIMEOUT_MS }), pg.url, temporalServer.address);
    db = createDb(config);
    await migrateLatest(db);
    app = await startApp(config, db);
  });

  after(async function () {
    this.timeout(30_000);
    await app?.close();
    await db?.destroy();
    await pg?.remove();
  });

  describe('with PostgreSQL and Temporal up', () => {
    it('answers /health with 200', async () => {
      const res = await app.call('GET', '/health');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
    });

    it('answers /health/ready with 200 and both checks ok', async () => {
      const res = await app.call('GET', '/health/ready');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok', checks: { postgres: 'ok', temporal: 'ok' } });
    });
  });

  describe('with Temporal unreachable', () => {
    let noTemporal: RunningApp;

    before(async () => {
      const closedAddress = `127.0.0.1:${await freePort()}`;
      noTemporal = await startApp(withServices(config, pg.url, closedAddress), db);
    });

    after(async function () {
      this.timeout(10_000);
      // A failed probe leaves the SDK's gRPC retry pending in a backoff timer for up to
      // ~2 s past its deadline; closing the channel under it throws from that timer
      // ("Channel has been shut down"), so let the retries run out first.
      await sleep(3000);
      await noTemporal?.close();
    });

    it('answers /health/ready with 503 naming temporal as unavailable within 4 s', async () => {
      const res = await timed(() => noTemporal.call('GET', '/health/ready'));
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { status: 'unavailable', checks: { postgres: 'ok', temporal: 'unavailable' } });
      assert.ok(res.elapsedMs < 4000, `took ${Math.round(res.elapsedMs)} ms`);
    });
  });

  describe('with PostgreSQL stopped', () => {
    before(async function () {
      this.timeout(30_000);
      await pg.stop();
    });

    it('still answers /health with 200: liveness does not depend on PostgreSQL', async () => {
      const res = await app.call('GET', '/health');
      assert.equal(res.status, 200);
    });

    it('answers /health/ready with 503 naming postgres as unavailable within 3 s', async () => {
      const res = await timed(() => app.call('GET', '/health/ready'));
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { status: 'unavailable', checks: { postgres: 'unavailable', temporal: 'ok' } });
      assert.ok(res.elapsedMs < 3000, `took ${Math.round(res.elapsedMs)} ms`);
    });

    it('answers a request that needs the database with 503 dependency_unavailable within 5 s', async () => {
      const res = await timed(() =>
        app.call('POST', '/v1/auth/login', { body: { email: 'nobody@example.com', password: 'correct horse battery staple' } }),
      );
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.type, 'dependency_unavailable');
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After is set');
      assert.ok(res.elapsedMs < 5000, `took ${Math.round(res.elapsedMs)} ms`);
    });
  });

  describe('after PostgreSQL restarts on the same data and port', () => {
    before(async function () {
      this.timeout(60_000);
      await pg.restart();
    });

    it('answers /health/ready with 200 again from the same app', async () => {
      const res = await app.call('GET', '/health/ready');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { status: 'ok', checks: { postgres: 'ok', temporal: 'ok' } });
    });
  });
});
