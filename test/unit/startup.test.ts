import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadlineError, eventually, withDeadline } from '../../src/dev/deadline';
import { PortInUseError, freePort, isListening } from '../../src/dev/ports';
import { startEmbeddedPostgres } from '../../src/dev/postgres';
import { ServiceStartError, startService, type ServiceSpec } from '../../src/dev/service';
import { startDevServer } from '../../src/dev/temporal';
import { startLocalS3 } from '../../src/dev/versitygw';
import { PROJECT_ROOT } from '../../src/paths';

/**
 * The start-up helper never waits forever: a service that never becomes ready fails
 * within its deadline, one that dies fails at once, a taken port is named with the
 * variable that moves it, and a first attempt that fails is retried once. The child
 * services here are small node scripts, so each case is exact and fast.
 */

/** A node one-liner that prints, then listens on the port given as its argument (or not). */
function nodeService(script: string, overrides: Partial<ServiceSpec<'port'>> = {}): ServiceSpec<'port'> {
  return {
    name: 'test service',
    ports: { port: {} },
    command: process.execPath,
    args: ({ port }) => ['-e', script, String(port)],
    ready: ({ port }) => isListening(port),
    timeoutMs: 10_000,
    probeIntervalMs: 50,
    ...overrides,
  };
}

const LISTEN = `require('net').createServer().listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));`;

async function listenOn(port = 0): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await work();
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('start-up helper', () => {
  it('starts a service once it answers, and stops it', async () => {
    const service = await startService(nodeService(LISTEN));
    assert.equal(await isListening(service.ports.port), true);
    await service.stop();
    assert.equal(await isListening(service.ports.port), false);
  });

  it('fails a service that never becomes ready within its deadline, with its name, port, command and output', async () => {
    const spec = nodeService(`console.log('booting the flux capacitor'); setInterval(() => {}, 1000);`, { timeoutMs: 1_000 });
    const { ms, error } = await elapsed(() => startService(spec));
    assert.ok(error instanceof ServiceStartError, String(error));
    // Two attempts of one second each, plus the kill of each.
    assert.ok(ms < 5_000, `took ${ms} ms`);
    assert.match(error.message, /^test service did not start: it was not ready within 1 s \(attempt 2; ports: port \d+\)/);
    assert.match(error.message, new RegExp(`command: ${process.execPath.replace(/[/.]/g, '\\$&')} -e`));
    assert.match(error.message, /\| booting the flux capacitor/);
  });

  it('fails at once when the service exits during start-up, with its exit code and last words', async () => {
    const spec = nodeService(`console.error('FATAL: could not open config'); process.exit(3);`, { timeoutMs: 60_000 });
    const { ms, error } = await elapsed(() => startService(spec));
    assert.ok(error instanceof ServiceStartError, String(error));
    assert.ok(ms < 5_000, `took ${ms} ms although the deadline was 60 s`);
    assert.match(error.message, /it exited during start-up \(exit code 3\)/);
    assert.match(error.message, /\| FATAL: could not open config/);
  });

  it('fails when the command cannot be run at all', async () => {
    const spec = nodeService('', { command: join(tmpdir(), 'no-such-binary-finflow') });
    const { error } = await elapsed(() => startService(spec));
    assert.ok(error instanceof ServiceStartError, String(error));
    assert.match(error.message, /could not run it: .*ENOENT/);
  });

  it('names a taken fixed port and the variable that moves it, without starting anything', async () => {
    const squatter = await listenOn();
    const { port } = squatter.address() as { port: number };
    try {
      const spec = nodeService(LISTEN, { ports: { port: { port, envVar: 'SOME_PORT' } } });
      await assert.rejects(startService(spec), (err: unknown) => {
        assert.ok(err instanceof PortInUseError);
        assert.equal(err.message, `test service: port ${port} is already in use (another finflow, or another program, listens there); set SOME_PORT to another port to move it`);
        return true;
      });
    } finally {
      squatter.close();
    }
  });

  it('retries once when the first attempt fails, and starts normally', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'finflow-startup-'));
    const marker = join(dir, 'tried');
    // The first run leaves a marker and dies; the second finds it and listens.
    const script = `const fs = require('fs'); if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); console.error('first try fails'); process.exit(1); } ${LISTEN}`;
    const retries: ServiceStartError[] = [];
    try {
      const service = await startService(nodeService(script, { onRetry: (err) => retries.push(err) }));
      assert.equal(retries.length, 1);
      assert.match(retries[0]!.message, /attempt 1/);
      assert.equal(await isListening(service.ports.port), true);
      await service.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kills a service that ignores the stop signal once the stop deadline passes', async () => {
    const stubborn = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); ${LISTEN}`;
    const service = await startService(nodeService(stubborn, { stopTimeoutMs: 500 }));
    const { ms } = await elapsed(() => service.stop());
    assert.ok(ms >= 450 && ms < 5_000, `stop took ${ms} ms`);
    assert.equal(await isListening(service.ports.port), false);
  });
});

describe('deadlines', () => {
  it('withDeadline names what it waited for', async () => {
    await assert.rejects(withDeadline('the moon to turn blue', 50, new Promise(() => undefined)), (err: unknown) => {
      assert.ok(err instanceof DeadlineError);
      assert.equal(err.message, 'gave up after 50 ms waiting for the moon to turn blue');
      return true;
    });
  });

  it('eventually returns the first defined value and gives up with the last error', async () => {
    let calls = 0;
    assert.equal(await eventually('three calls', async () => (++calls === 3 ? 'done' : undefined), { timeoutMs: 5_000, intervalMs: 1 }), 'done');
    await assert.rejects(
      eventually('a probe that always throws', () => Promise.reject(new Error('still down')), { timeoutMs: 50, intervalMs: 5 }),
      /gave up after 50 ms waiting for a probe that always throws \(last error: still down\)/,
    );
  });
});

describe('finflow services on a taken port', () => {
  let squatter: Server;
  let port: number;
  beforeEach(async () => {
    squatter = await listenOn();
    port = (squatter.address() as { port: number }).port;
  });
  afterEach(() => {
    squatter.close();
  });

  it('the Temporal dev server names TEMPORAL_DEV_PORT', async () => {
    await assert.rejects(startDevServer({ port, timeoutMs: 5_000 }), (err: unknown) => err instanceof PortInUseError && /TEMPORAL_DEV_PORT/.test(err.message));
  });

  it('the Web UI names TEMPORAL_UI_PORT', async () => {
    await assert.rejects(startDevServer({ port: await freePort(), uiPort: port, timeoutMs: 5_000 }), (err: unknown) => err instanceof PortInUseError && /TEMPORAL_UI_PORT/.test(err.message));
  });

  it('embedded PostgreSQL names EMBEDDED_PG_PORT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'finflow-startup-pg-'));
    try {
      await assert.rejects(
        startEmbeddedPostgres({ dataDir: join(dir, 'data'), port, portEnvVar: 'EMBEDDED_PG_PORT', database: 'x', timeoutMs: 30_000 }),
        (err: unknown) => err instanceof PortInUseError && /EMBEDDED_PG_PORT/.test(err.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the local S3 server names LOCAL_S3_PORT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'finflow-startup-s3-'));
    try {
      await assert.rejects(
        startLocalS3({ dataDir: dir, port, portEnvVar: 'LOCAL_S3_PORT', accessKeyId: 'k', secretAccessKey: 's', timeoutMs: 5_000 }),
        (err: unknown) => err instanceof PortInUseError && /LOCAL_S3_PORT/.test(err.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('npm start names PORT and exits 1 before starting anything', async function () {
    this.timeout(120_000);
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/dev/start.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: 'development', PORT: String(port), LOG_LEVEL: 'warn', FINFLOW_DATA_DIR: join(tmpdir(), 'finflow-never-used') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Loading the whole program through tsx can take most of a minute on a busy machine. If the
    // deadline passes, the child is killed: left alone it would start every service once the
    // squatter is gone, and outlive the test.
    const code = await withDeadline('npm start to give up', 90_000, exited).finally(() => child.kill('SIGKILL'));
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`finflow API: port ${port} is already in use .*set PORT to another port`));
  });
});
