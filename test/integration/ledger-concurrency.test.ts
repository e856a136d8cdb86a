import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Account } from '../../src/ledger/types';
import type { Orders } from '../ledger/overdraw-child';
import { postgresUrl } from '../helpers/services';
import { audit, available, fundedWallet, ledgerWorld, pending, posted, type LedgerWorld } from '../ledger/fixtures';

/**
 * The ledger's invariants under concurrency, on the run's PostgreSQL: a wallet is never
 * overdrawn by concurrent attempts from several processes, a transfer id is applied at
 * most once however often it is raced, and calls that lock the same accounts in
 * opposite orders never deadlock.
 */

const PROCESSES = 4;
const ATTEMPTS_PER_PROCESS = 250;
const BALANCE = 10_000n;
const AMOUNT = 37n;

const count = (statuses: string[]) => statuses.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

/** Starts one child process with its orders; resolves once it is ready to fire. */
async function startChild(orders: Orders): Promise<{ child: ChildProcess; outcomes: Promise<Record<string, number>> }> {
  const child = fork(join(__dirname, '..', 'ledger', 'overdraw-child.ts'), [], { execPath: process.execPath, execArgv: ['--import', 'tsx'] });
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const outcomes = new Promise<Record<string, number>>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean; outcomes?: Record<string, number>; error?: string }) => {
      if (message.ready) ready();
      else if (message.outcomes) resolve(message.outcomes);
      else reject(new Error(message.error));
    });
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child exited with ${code}`))));
  });
  child.send(orders);
  await Promise.race([isReady, outcomes]);
  return { child, outcomes };
}

describe('ledger under concurrency', function () {
  this.timeout(120_000);
  let world: LedgerWorld;

  before(async function () {
    world = await ledgerWorld();
  });

  describe(`${PROCESSES * ATTEMPTS_PER_PROCESS} concurrent overdraw attempts from ${PROCESSES} processes`, function () {
    let wallet: Account;
    let outcomes: Record<string, number>;

    before(async function () {
      wallet = await fundedWallet(world, BALANCE);
      const receivers = await Promise.all(Array.from({ length: 8 }, () => fundedWallet(world, 0n)));
      const orders: Orders = {
        url: await postgresUrl(),
        walletId: wallet.id,
        receiverIds: receivers.map((r) => r.id),
        amountMinor: AMOUNT.toString(),
        count: ATTEMPTS_PER_PROCESS,
      };
      const children = await Promise.all(Array.from({ length: PROCESSES }, () => startChild(orders)));
      for (const { child } of children) child.send('go');
      outcomes = {};
      for (const { outcomes: reported } of children) {
        for (const [status, n] of Object.entries(await reported)) outcomes[status] = (outcomes[status] ?? 0) + n;
      }
    });

    it('lets exactly floor(balance / amount) of them through, and refuses the rest as insufficient_funds', function () {
      const through = Number(BALANCE / AMOUNT);
      assert.deepEqual(outcomes, { created: through, insufficient_funds: PROCESSES * ATTEMPTS_PER_PROCESS - through });
    });

    it('leaves the wallet at the remainder, never below zero', async function () {
      assert.equal(await available(world, wallet.id), BALANCE % AMOUNT);
    });

    it('keeps the wallet\'s totals equal to the sums of its transfers', async function () {
      const { stored, summed } = await audit(world.db, wallet.id);
      assert.deepEqual(stored, summed);
    });
  });

  it('applies a transfer id once when 50 submissions of it race between wallets', async function () {
    const from = await fundedWallet(world, 1_000n);
    const to = await fundedWallet(world, 0n);
    const transfer = posted(from.id, to.id, 10n);
    const results = await Promise.all(Array.from({ length: 50 }, () => world.ledger.createTransfers([transfer])));
    assert.deepEqual(count(results.map(([r]) => r!.status)), { created: 1, exists: 49 });
    assert.equal(await available(world, to.id), 10n);
  });

  it('applies a transfer id once when 50 submissions of it race between system accounts', async function () {
    const fees = await world.ledger.ensureSystemAccount('fee_revenue', 'USD');
    const transfer = posted(world.clearing.id, fees.id, 10n, { code: 'fee' });
    const results = await Promise.all(Array.from({ length: 50 }, () => world.ledger.createTransfers([transfer])));
    assert.deepEqual(count(results.map(([r]) => r!.status)), { created: 1, exists: 49 });
    const stored = await world.db('ledger_transfers').where({ id: transfer.id }).count<[{ count: string }]>('* as count');
    assert.equal(stored[0]!.count, '1');
  });

  it('resolves a pending between system accounts once when ten resolutions race', async function () {
    const fees = await world.ledger.ensureSystemAccount('fee_revenue', 'USD');
    const hold = pending(world.clearing.id, fees.id, 10n, { code: 'fee' });
    await world.ledger.createTransfer(hold);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        world.ledger.createTransfers([{ id: randomUUID(), kind: i % 2 ? 'post_pending' : 'void_pending', pendingId: hold.id }]),
      ),
    );
    assert.deepEqual(count(results.map(([r]) => r!.status)), { created: 1, pending_already_resolved: 9 });
  });

  it('never deadlocks when transfers lock the same two wallets in opposite directions', async function () {
    const a = await fundedWallet(world, 10_000n);
    const b = await fundedWallet(world, 10_000n);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => world.ledger.createTransfers([i % 2 ? posted(a.id, b.id, 3n) : posted(b.id, a.id, 2n)])));
    assert.deepEqual(count(results.map(([r]) => r!.status)), { created: 100 });
    assert.equal((await available(world, a.id)) + (await available(world, b.id)), 20_000n);
  });

  it('never deadlocks when batches over the same wallets race', async function () {
    const wallets = await Promise.all(Array.from({ length: 6 }, () => fundedWallet(world, 1_000n)));
    const randomBatch = () =>
      Array.from({ length: 30 }, (_, i) => {
        const from = wallets[(i * 7 + Math.floor(Math.random() * 6)) % 6]!;
        const to = wallets.find((w) => w !== from && Math.random() < 0.5) ?? wallets.find((w) => w !== from)!;
        return posted(from.id, to.id, BigInt(1 + Math.floor(Math.random() * 300)));
      });
    await Promise.all(Array.from({ length: 8 }, () => world.ledger.createTransfers(randomBatch())));
    let total = 0n;
    for (const w of wallets) {
      const { stored, summed } = await audit(world.db, w.id);
      assert.deepEqual(stored, summed);
      total += await available(world, w.id);
    }
    assert.equal(total, 6_000n);
  });
});
