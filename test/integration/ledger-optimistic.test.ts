import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { createLedger } from '../../src/ledger/service';
import type { Account, TransferInput } from '../../src/ledger/types';
import { eventually } from '../helpers/wait';
import { audit, available, fundedWallet, ledgerWorld, pending, posted, type LedgerWorld } from '../ledger/fixtures';

/**
 * A single transfer is applied optimistically (db/migrations/20261202_L01_typed_transfer.ts):
 * decided on an unlocked read, then each constrained account's UPDATE checks the rule
 * again under its row lock. These tests hold a competing transaction open so that the
 * facts change between the read and the lock, and check that the transfer then gets the
 * answer the locking engine gives, with nothing of its first attempt left behind.
 */

/** Resolves once a call into the engine waits for a row lock held by another transaction. */
async function engineWaitsForLock(world: LedgerWorld): Promise<void> {
  await eventually('a transfer waiting for a row lock', async () => {
    const { rows } = await world.db.raw<{ rows: unknown[] }>(
      `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%ledger_apply_transfer%'`,
    );
    return rows.length > 0 ? true : undefined;
  });
}

/** Runs `first` in a transaction held open until `second` waits on its locks, then commits. */
async function raceAgainstOpenTransaction(
  world: LedgerWorld,
  first: (trx: Knex.Transaction) => Promise<unknown>,
  second: () => Promise<unknown>,
): Promise<unknown> {
  const trx = await world.db.transaction();
  await first(trx);
  const answer = second();
  await engineWaitsForLock(world);
  await trx.commit();
  return answer;
}

async function assertSound(world: LedgerWorld, ...accounts: Account[]): Promise<void> {
  for (const account of accounts) {
    const { stored, summed } = await audit(world.db, account.id);
    assert.deepEqual(stored, summed);
  }
}

describe('ledger: a single transfer applied optimistically', function () {
  this.timeout(60_000);
  let world: LedgerWorld;

  before(async function () {
    world = await ledgerWorld();
  });

  it('answers insufficient_funds when a concurrent debit drains the wallet between its read and its lock', async function () {
    const from = await fundedWallet(world, 100n);
    const to = await fundedWallet(world, 0n);
    const late = posted(from.id, to.id, 60n);
    const answer = raceAgainstOpenTransaction(
      world,
      (trx) => createLedger(trx).createTransfer(posted(from.id, to.id, 70n)),
      () => world.ledger.createTransfers([late]),
    );
    assert.deepEqual(await answer, [{ id: late.id, status: 'insufficient_funds' }]);
  });

  it('leaves no trace of the attempt that lost that race', async function () {
    const from = await fundedWallet(world, 100n);
    const to = await fundedWallet(world, 0n);
    await raceAgainstOpenTransaction(
      world,
      (trx) => createLedger(trx).createTransfer(pending(from.id, to.id, 70n)),
      () => world.ledger.createTransfers([posted(from.id, to.id, 60n)]),
    );
    assert.equal(await available(world, from.id), 30n);
    await assertSound(world, from, to);
  });

  it('answers exists when the same id commits between its probe and its insert', async function () {
    const from = await fundedWallet(world, 100n);
    const to = await fundedWallet(world, 0n);
    const transfer = posted(from.id, to.id, 10n);
    const answer = (await raceAgainstOpenTransaction(
      world,
      (trx) => createLedger(trx).createTransfer(transfer),
      () => world.ledger.createTransfers([transfer]),
    )) as Array<{ status: string }>;
    assert.equal(answer[0]!.status, 'exists');
  });

  it('counts a transfer raced by its own id once in the totals of both accounts', async function () {
    const from = await fundedWallet(world, 100n);
    const to = await fundedWallet(world, 0n);
    const transfer = posted(from.id, to.id, 10n);
    await raceAgainstOpenTransaction(
      world,
      (trx) => createLedger(trx).createTransfer(transfer),
      () => world.ledger.createTransfers([transfer]),
    );
    assert.equal(await available(world, to.id), 10n);
    await assertSound(world, from, to);
  });

  it('keeps the trial balance at zero when 200 concurrent transfers share one system account', async function () {
    const wallets = await Promise.all(Array.from({ length: 10 }, () => fundedWallet(world, 1_000n)));
    const transfers: TransferInput[] = Array.from({ length: 200 }, (_, i) => {
      const wallet = wallets[i % wallets.length]!;
      if (i % 4 === 0) return posted(wallet.id, world.clearing.id, 7n, { code: 'bank_debit' });
      if (i % 4 === 1) return pending(wallet.id, world.clearing.id, 5n);
      return posted(world.clearing.id, wallet.id, 3n, { code: 'wallet_funding' });
    });
    const results = await Promise.all(transfers.map((t) => world.ledger.createTransfers([t])));
    assert.deepEqual(new Set(results.map(([r]) => r!.status)), new Set(['created']));
    for (const row of await world.ledger.trialBalance()) {
      assert.equal(row.posted.differenceMinor, 0n, `${row.currency} posted`);
      assert.equal(row.pending.differenceMinor, 0n, `${row.currency} pending`);
    }
    await assertSound(world, ...wallets);
  });
});
