import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createDb, migrateLatest, type Db } from '../src/db/knex';
import { createLedger } from '../src/ledger/service';
import type { Ledger, PostedTransferInput } from '../src/ledger/types';
import { benchPostgres } from './postgres';
import { Tally, type Measurement } from './measure';

/**
 * `npm run bench:ledger`: the ledger's service layer against the floor cost of one
 * durable write per transfer, on the same PostgreSQL with the same pool size.
 *
 *   baseline            single-row `UPDATE … SET balance = balance + $1` through pg
 *   single, wallets     createTransfer wallet → wallet over many random pairs
 *   single, hot system  createTransfer funding clearing (one system account) → wallet
 *   locking engine      wallet → wallet through the engine single transfers used before
 *                       ledger_apply_transfer (ledger_create_transfer(jsonb), locks
 *                       first), called through pg: the before of issue 15 in the same run
 *   batched             createTransfers of BATCH transfers per call, 1 and 8 clients
 *
 * The single-transfer scenarios run in interleaved rounds, so that load from
 * elsewhere on a shared machine weighs on all of them alike. Settings: BENCH_CALLS
 * (calls per single scenario, default 6000), BENCH_ROUNDS (default 6),
 * BENCH_BATCH_CALLS (default 24), DATABASE_URL (else an embedded PostgreSQL).
 */

const CLIENTS = 8;
const WALLETS = 1_000;
const CALLS = Number(process.env.BENCH_CALLS ?? 6_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const BATCH = 1_000;
const BATCH_CALLS = Number(process.env.BENCH_BATCH_CALLS ?? 24);
const CURRENCY = 'USD';
const SINGLE_TARGET = 0.5;
const BATCHED_TARGET = 25_000;

/** A seeded generator, so every run moves money between the same pairs. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fixture {
  ledger: Ledger;
  wallets: string[];
  clearingId: string;
}

async function setUp(db: Db, pool: Pool): Promise<Fixture> {
  const ledger = createLedger(db);
  const ownerUserId = randomUUID();
  await db('users').insert({
    id: ownerUserId,
    email: `${ownerUserId}@bench.invalid`,
    password_hash: 'bench',
    name: 'Bench',
    phone: '+14155550100',
    date_of_birth: '1990-01-01',
    role: 'customer',
  });
  const wallets: string[] = [];
  for (let i = 0; i < WALLETS; i++) wallets.push((await ledger.openAccount({ ownerUserId, type: 'wallet', currency: CURRENCY })).id);
  const clearing = await ledger.ensureSystemAccount('funding_clearing', CURRENCY);
  const funded = await ledger.createTransfers(
    wallets.map((creditAccountId) => ({
      id: randomUUID(),
      debitAccountId: clearing.id,
      creditAccountId,
      amountMinor: 10n ** 15n,
      currency: CURRENCY,
      code: 'wallet_funding',
    })),
  );
  if (funded.some((r) => r.status !== 'created')) throw new Error('funding the wallets failed');

  await pool.query('create table accounts_baseline (id integer primary key, balance bigint not null)');
  await pool.query('insert into accounts_baseline select g, 0 from generate_series(1, $1) g', [WALLETS]);
  await db.raw('vacuum analyze');
  return { ledger, wallets, clearingId: clearing.id };
}

function walletTransfer(wallets: readonly string[], next: () => number): PostedTransferInput {
  const from = Math.floor(next() * wallets.length);
  const to = (from + 1 + Math.floor(next() * (wallets.length - 1))) % wallets.length;
  return {
    id: randomUUID(),
    debitAccountId: wallets[from]!,
    creditAccountId: wallets[to]!,
    amountMinor: BigInt(1 + Math.floor(next() * 10_000)),
    currency: CURRENCY,
    code: 'p2p_transfer',
  };
}

async function expectCreated(ledger: Ledger, transfers: PostedTransferInput[]): Promise<void> {
  const results = await ledger.createTransfers(transfers);
  const failed = results.find((r) => r.status !== 'created');
  if (failed) throw new Error(`bench transfer failed: ${failed.status}`);
}

async function run({ ledger, wallets, clearingId }: Fixture, pool: Pool): Promise<Measurement[]> {
  const next = random(42);
  const baseline = new Tally('baseline: UPDATE balance = balance + $1');
  const updateBalance = async () => {
    await pool.query('update accounts_baseline set balance = balance + $1 where id = $2', [1, 1 + Math.floor(next() * WALLETS)]);
  };
  const singleWallets = new Tally('single: wallet → wallet');
  const walletToWallet = async () => {
    await ledger.createTransfer(walletTransfer(wallets, next));
  };
  const singleHot = new Tally('single: hot system account → wallet');
  const clearingToWallet = async () => {
    const credit = wallets[Math.floor(next() * wallets.length)]!;
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearingId, creditAccountId: credit, amountMinor: 1n, currency: CURRENCY, code: 'wallet_funding' });
  };
  const lockingEngine = new Tally('single: locking engine (jsonb), through pg');
  const lockingWalletToWallet = async () => {
    const t = walletTransfer(wallets, next);
    const document = { id: t.id, kind: 'posted', debit_account_id: t.debitAccountId, credit_account_id: t.creditAccountId, amount_minor: t.amountMinor.toString(), currency: t.currency, code: t.code, metadata: {} };
    const { rows } = await pool.query<{ result: string }>({ name: 'locking_engine', text: 'select result from ledger_create_transfer($1::jsonb)', values: [JSON.stringify(document)] });
    if (rows[0]?.result !== 'created') throw new Error(`bench transfer failed: ${rows[0]?.result}`);
  };
  // Eight clients batch over disjoint eighths of the wallets: a batching front end
  // would shard the same way, since two batches sharing accounts serialise on them.
  const slice = WALLETS / CLIENTS;
  const batchOf = (clients: number) => async (_call: number, client: number) => {
    const own = clients === 1 ? wallets : wallets.slice(client * slice, (client + 1) * slice);
    await expectCreated(ledger, Array.from({ length: BATCH }, () => walletTransfer(own, next)));
  };

  // Warm every pooled connection (plans are cached per connection) before measuring.
  const warm = new Tally('warm-up');
  await warm.round(CLIENTS, CLIENTS * 20, updateBalance);
  await warm.round(CLIENTS, CLIENTS * 20, walletToWallet);
  await warm.round(CLIENTS, CLIENTS * 20, clearingToWallet);
  await warm.round(CLIENTS, CLIENTS * 20, lockingWalletToWallet);
  await warm.round(CLIENTS, CLIENTS, batchOf(CLIENTS));

  const perRound = Math.ceil(CALLS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    await baseline.round(CLIENTS, perRound, updateBalance);
    await singleWallets.round(CLIENTS, perRound, walletToWallet);
    await singleHot.round(CLIENTS, perRound, clearingToWallet);
    await lockingEngine.round(CLIENTS, perRound, lockingWalletToWallet);
  }
  const batched1 = new Tally(`batched: ${BATCH}/call, 1 client`, BATCH);
  const batched8 = new Tally(`batched: ${BATCH}/call, ${CLIENTS} clients`, BATCH);
  await batched1.round(1, BATCH_CALLS, batchOf(1));
  await batched8.round(CLIENTS, BATCH_CALLS, batchOf(CLIENTS));
  return [baseline, singleWallets, singleHot, lockingEngine, batched1, batched8].map((t) => t.result());
}

function report(rows: Measurement[]) {
  const baselineOpsPerSecond = rows[0]!.opsPerSecond;
  const table = rows.map((r) => ({ ...r, percentOfBaseline: (100 * r.opsPerSecond) / baselineOpsPerSecond }));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(40) : c.padStart(10))).join(' ');
  console.log(line(['scenario', 'ops', 'ops/s', 'p50 ms', 'p99 ms', '% baseline']));
  for (const r of table) {
    console.log(line([r.name, String(r.ops), r.opsPerSecond.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), `${r.percentOfBaseline.toFixed(0)} %`]));
  }
  const single = table[1]!;
  const targets = {
    singleAtLeast50PercentOfBaseline: single.percentOfBaseline >= 100 * SINGLE_TARGET,
    batchedAtLeast25000PerSecondWith8Clients: table[5]!.opsPerSecond >= BATCHED_TARGET,
  };
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  console.log(
    `targets: single ≥ 50 % of baseline ${verdict(targets.singleAtLeast50PercentOfBaseline)}, ` +
      `batched ≥ 25,000/s with ${CLIENTS} clients ${verdict(targets.batchedAtLeast25000PerSecondWith8Clients)}`,
  );
  return { baselineOpsPerSecond, rows: table, targets };
}

async function main(): Promise<void> {
  const pg = await benchPostgres('finflow_bench');
  const db = createDb({ database: { url: pg.url, poolMax: CLIENTS, embeddedPort: 0 }, dependencyTimeoutMs: 10_000 });
  const pool = new Pool({ connectionString: pg.url, max: CLIENTS });
  try {
    await migrateLatest(db);
    const fixture = await setUp(db, pool);
    const rows = await run(fixture, pool);
    const summary = report(rows);
    const balanced = (await fixture.ledger.trialBalance()).every((t) => t.posted.differenceMinor === 0n && t.pending.differenceMinor === 0n);
    if (!balanced) throw new Error('trial balance is off after the bench');
    const { rows: version } = await pool.query<{ server_version: string }>('show server_version');
    const file = join(__dirname, 'results', `ledger-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, postgres: version[0]?.server_version, external: Boolean(process.env.DATABASE_URL) };
    const settings = { clients: CLIENTS, wallets: WALLETS, batch: BATCH, rounds: ROUNDS };
    await writeFile(file, JSON.stringify({ bench: 'ledger', at: new Date().toISOString(), environment, ...settings, ...summary }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    await pool.end();
    await db.destroy();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  // Exit now: a service that failed half-way may still hold the event loop open.
  process.exit(1);
});
