import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createApp } from '../src/api/app';
import { signAccessToken } from '../src/api/core/access-tokens';
import { loadConfig, withServices, type Config } from '../src/config';
import { createDb, migrateLatest, type Db } from '../src/db/knex';
import { createLedger } from '../src/ledger/service';
import { MAX_TRANSFERS_PER_CALL } from '../src/ledger/transfers';
import type { PostedTransferInput } from '../src/ledger/types';
import { createLogger } from '../src/logger';
import { createClient } from '../src/temporal/client';
import { appPorts, createPorts } from '../src/worker/deps';
import { summariseCpuProfile } from './cpu-profile';
import { benchPostgres } from './postgres';

/**
 * `npm run bench:api`: the API's read routes under load (docs/performance.md, "API
 * reads"). Seeds CUSTOMERS customers with a wallet of TRANSACTIONS transactions each
 * through the ledger's batch path, starts the real Koa app (real JWT auth, PostgreSQL;
 * Temporal is never reached by these routes) in a process of its own, and drives it with
 * autocannon, the tokens spread over the customers:
 *
 *   GET /health                          Koa and the middleware chain alone (no auth)
 *   GET /v1/accounts                     auth + one query
 *   GET /v1/accounts/{id}/transactions   auth + the account + a page + balances after
 *   GET /v1/me/dashboard                 auth + accounts, recent activity, cashback, recurring
 *
 * Each route first at a fixed offered rate (RATE/s; autocannon corrects its latencies
 * for coordinated omission), then flat out with CONNECTIONS connections (the most it
 * sustains). Goals: p99 < 20 ms at 500/s, and the transactions page at least half the
 * rate of /health. Settings: BENCH_RATE (default 500), BENCH_SECONDS (per run, default
 * 10), BENCH_CONNECTIONS (default 16), BENCH_CUSTOMERS (default 1000),
 * BENCH_TRANSACTIONS (per customer, default 100), BENCH_API_ROUTES (a comma-separated
 * subset, e.g. `transactions,health`: routes whose path contains one of the words),
 * BENCH_API_CPU_PROFILE=1 (run the API under --cpu-prof and print where its CPU went),
 * DATABASE_URL (else an embedded PostgreSQL).
 */

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 1000);
const TRANSACTIONS = Number(process.env.BENCH_TRANSACTIONS ?? 100);
const ROUTE_FILTER = process.env.BENCH_API_ROUTES?.split(',').filter(Boolean);
const CPU_PROFILE = process.env.BENCH_API_CPU_PROFILE === '1';
const CURRENCY = 'USD';
const P99_TARGET_MS = 20;
const TRANSACTIONS_VS_HEALTH_TARGET = 0.5;

interface Customer {
  token: string;
  walletId: string;
}

function benchConfig(databaseUrl: string): Config {
  // Temporal's address is never dialled: the client's connection is lazy and these routes do not use it.
  return withServices(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', LOG_FORMAT: 'json' }), databaseUrl, '127.0.0.1:1');
}

/**
 * Customer i's wallet gets one funding and TRANSACTIONS − 1 transfers: it pays the next
 * ⌊(T−1)/2⌋ customers round the ring and is paid by the previous ones, and when T − 1 is
 * odd, the first half also pays the customer opposite (whom that adds one to).
 */
function seedTransfers(wallets: string[], clearingId: string): PostedTransferInput[] {
  const n = wallets.length;
  const transfer = (from: string, to: string, amountMinor: bigint, code: PostedTransferInput['code']): PostedTransferInput => ({
    id: randomUUID(),
    debitAccountId: from,
    creditAccountId: to,
    amountMinor,
    currency: CURRENCY,
    code,
  });
  const transfers = wallets.map((w) => transfer(clearingId, w, 10_000_000n, 'wallet_funding'));
  const ring = Math.floor((TRANSACTIONS - 1) / 2);
  for (let k = 1; k <= ring; k++) for (let i = 0; i < n; i++) transfers.push(transfer(wallets[i]!, wallets[(i + k) % n]!, BigInt(100 + k), 'p2p_transfer'));
  if ((TRANSACTIONS - 1) % 2 === 1) for (let i = 0; i < n / 2; i++) transfers.push(transfer(wallets[i]!, wallets[i + n / 2]!, 50n, 'p2p_transfer'));
  return transfers;
}

async function seed(db: Db, config: Config): Promise<Customer[]> {
  const ledger = createLedger(db);
  const users = Array.from({ length: CUSTOMERS }, (_, i) => ({
    id: randomUUID(),
    email: `bench-${i}@bench.invalid`,
    password_hash: 'bench',
    name: `Bench ${i}`,
    phone: `+1415${String(5_000_000 + i).padStart(7, '0')}`,
    date_of_birth: '1990-01-01',
    role: 'customer',
  }));
  await db.batchInsert('users', users, 1000);
  const wallets: string[] = [];
  for (const user of users) wallets.push((await ledger.openAccount({ ownerUserId: user.id, type: 'wallet', currency: CURRENCY })).id);
  const clearing = await ledger.systemAccountId('funding_clearing', CURRENCY);
  const transfers = seedTransfers(wallets, clearing);
  for (let i = 0; i < transfers.length; i += MAX_TRANSFERS_PER_CALL) {
    const results = await ledger.createTransfers(transfers.slice(i, i + MAX_TRANSFERS_PER_CALL));
    if (results.some((r) => r.status !== 'created')) throw new Error('seeding the transactions failed');
  }
  await db.raw('vacuum analyze');
  return users.map((user, i) => ({ token: signAccessToken(config.auth, { sub: user.id, role: 'customer' }), walletId: wallets[i]! }));
}

/** The API in a process of its own, as in production, so the load generator does not share its event loop. */
async function serve(databaseUrl: string): Promise<void> {
  const config = benchConfig(databaseUrl);
  const db = createDb(config);
  const app = createApp(config, { db, temporal: createClient(config.temporal), logger: createLogger(config, 'finflow-api'), ...appPorts(createPorts(config, { db })) });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // An orderly exit, so that --cpu-prof writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.send?.({ port: (server.address() as AddressInfo).port });
}

async function startApi(databaseUrl: string, profileDir: string): Promise<{ child: ChildProcess; baseUrl: string }> {
  const execArgv = ['--import', 'tsx', ...(CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const child = fork(__filename, ['serve'], { execArgv, env: { ...process.env, BENCH_API_DATABASE_URL: databaseUrl } });
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => Promise.reject(new Error('the API process exited')))])) as [{ port: number }];
  return { child, baseUrl: `http://127.0.0.1:${message.port}` };
}

interface RouteLoad {
  route: string;
  path: (customer: Customer) => string;
  authenticated: boolean;
}

const ROUTES: RouteLoad[] = [
  { route: 'GET /health', path: () => '/health', authenticated: false },
  { route: 'GET /v1/accounts', path: () => '/v1/accounts', authenticated: true },
  { route: 'GET /v1/accounts/{id}/transactions', path: (c) => `/v1/accounts/${c.walletId}/transactions`, authenticated: true },
  { route: 'GET /v1/me/dashboard', path: () => '/v1/me/dashboard', authenticated: true },
];

interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function drive(baseUrl: string, load: RouteLoad, customers: Customer[], rate: number | undefined, seconds = SECONDS): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          const customer = customers[next++ % customers.length]!;
          return { ...request, path: load.path(customer), headers: load.authenticated ? { authorization: `Bearer ${customer.token}` } : {} };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function report(rows: Array<{ route: string; atRate: LoadResult; flatOut: LoadResult }>) {
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(36) : c.padStart(11))).join(' ');
  console.log(line(['route', `req/s @${RATE}`, 'p50 ms', 'p99 ms', 'max req/s', 'max p50', 'max p99']));
  for (const r of rows) {
    const { atRate: a, flatOut: m } = r;
    console.log(line([r.route, a.requestsPerSecond.toFixed(0), a.p50Ms.toFixed(1), a.p99Ms.toFixed(1), m.requestsPerSecond.toFixed(0), m.p50Ms.toFixed(1), m.p99Ms.toFixed(1)]));
  }
  const flatOut = (route: string) => rows.find((r) => r.route === route)?.flatOut.requestsPerSecond ?? Number.NaN;
  const health = flatOut('GET /health');
  const transactions = flatOut('GET /v1/accounts/{id}/transactions');
  const targets = {
    p99Under20MsAtRate: rows.every((r) => r.atRate.p99Ms < P99_TARGET_MS),
    transactionsAtLeastHalfOfHealth: transactions >= TRANSACTIONS_VS_HEALTH_TARGET * health,
  };
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  console.log(
    `targets: p99 < ${P99_TARGET_MS} ms at ${RATE}/s on every route ${verdict(targets.p99Under20MsAtRate)}, ` +
      `transactions ≥ half of /health (${Math.round((100 * transactions) / health)} %) ${verdict(targets.transactionsAtLeastHalfOfHealth)}`,
  );
  return targets;
}

async function main(): Promise<void> {
  const pg = await benchPostgres('finflow_bench_api');
  const config = benchConfig(pg.url);
  const db = createDb({ database: { url: pg.url, poolMax: 8, embeddedPort: 0 }, dependencyTimeoutMs: 10_000 });
  let api: ChildProcess | undefined;
  try {
    await migrateLatest(db);
    const seeded = Date.now();
    const customers = await seed(db, config);
    console.log(`seeded ${CUSTOMERS} customers × ${TRANSACTIONS} transactions in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
    const profileDir = await mkdtemp(join(tmpdir(), 'finflow-api-profile-'));
    const started = await startApi(pg.url, profileDir);
    api = started.child;
    const rows = [];
    for (const load of ROUTES.filter((r) => !ROUTE_FILTER || ROUTE_FILTER.some((word) => r.route.includes(word)))) {
      // A short warm-up, so every pooled connection has prepared what the route runs.
      await drive(started.baseUrl, load, customers, RATE, 2);
      const atRate = await drive(started.baseUrl, load, customers, RATE);
      const flatOut = await drive(started.baseUrl, load, customers, undefined);
      for (const r of [atRate, flatOut]) if (r.non2xx > 0 || r.errors > 0) throw new Error(`${load.route}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      rows.push({ route: load.route, atRate, flatOut });
    }
    const targets = report(rows);
    if (CPU_PROFILE) {
      api.kill('SIGTERM');
      await once(api, 'exit');
      console.log('where the API process spent its CPU (self time, from --cpu-prof):');
      console.table(await summariseCpuProfile(join(profileDir, (await readdir(profileDir))[0] as string), 25));
    }
    const file = join(__dirname, 'results', `api-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL) };
    const settings = { rate: RATE, seconds: SECONDS, connections: CONNECTIONS, customers: CUSTOMERS, transactionsPerCustomer: TRANSACTIONS };
    await writeFile(file, JSON.stringify({ bench: 'api', at: new Date().toISOString(), environment, ...settings, rows, targets }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    api?.kill('SIGKILL');
    await db.destroy();
    await pg.stop();
  }
}

if (process.argv[2] === 'serve') {
  serve(process.env.BENCH_API_DATABASE_URL ?? '').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
