import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { isLedgerError } from '../../src/ledger/errors';
import { accountIdFrom, transferIdFrom, uuidV5 } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/service';
import type { Transfer, TransferPage } from '../../src/ledger/types';
import { insertCustomer } from '../helpers/fixtures';
import { fundedWallet, ledgerWorld, pending, posted, type LedgerWorld } from '../ledger/fixtures';

/**
 * Accounts and what is read from the ledger: balances, system accounts, history pages,
 * the trial balance, derived ids, and the guards that keep history unedited.
 */

const DAY_MS = 86_400_000;

describe('ledger accounts and reads', function () {
  let world: LedgerWorld;

  before(async function () {
    this.timeout(120_000);
    world = await ledgerWorld();
  });

  /** Runs `work` in a transaction that is always rolled back, for tests that try to break things. */
  async function inRolledBackTransaction(work: (trx: LedgerWorld['db']) => Promise<void>): Promise<void> {
    const rollback = new Error('roll back');
    await assert.rejects(
      world.db.transaction(async (trx) => {
        await work(trx);
        throw rollback;
      }),
      (err) => err === rollback,
    );
  }

  describe('accounts', function () {
    it('opens a wallet with zero balances under the debits_within_credits rule', async function () {
      const wallet = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'USD' });
      assert.equal(wallet.rule, 'debits_within_credits');
      assert.deepEqual(wallet.balances, { postedMinor: 0n, pendingMinor: 0n, availableMinor: 0n });
    });

    it('opens a credit card whose available balance is its limit', async function () {
      const card = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 50_000n });
      assert.equal(card.rule, 'debits_within_limit');
      assert.equal(card.balances.availableMinor, 50_000n);
    });

    it('returns the existing account when opened again with the same id and fields', async function () {
      const id = accountIdFrom(`wallet:${world.userId}:GBP`);
      const first = await world.ledger.openAccount({ id, ownerUserId: world.userId, type: 'wallet', currency: 'GBP' });
      const again = await world.ledger.openAccount({ id, ownerUserId: world.userId, type: 'wallet', currency: 'GBP' });
      assert.deepEqual(again, first);
    });

    it('refuses the same account id with other fields', async function () {
      const id = randomUUID();
      await world.ledger.openAccount({ id, ownerUserId: world.userId, type: 'wallet', currency: 'USD' });
      await assert.rejects(world.ledger.openAccount({ id, ownerUserId: world.userId, type: 'savings', currency: 'USD' }), (err) =>
        isLedgerError(err, 'exists_with_different_fields'),
      );
    });

    it('refuses a credit limit on anything but a credit card', async function () {
      await assert.rejects(world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'USD', creditLimitMinor: 5n }), TypeError);
    });

    it('refuses a currency that is not an ISO 4217 code', async function () {
      await assert.rejects(world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'usd' }), TypeError);
    });

    it('keeps one system account per role and currency, even when ensured concurrently', async function () {
      const accounts = await Promise.all(Array.from({ length: 5 }, () => world.ledger.ensureSystemAccount('cashback_expense', 'JPY')));
      assert.equal(new Set(accounts.map((a) => a.id)).size, 1);
      assert.equal(accounts[0]!.rule, 'none');
    });

    it('answers null for an unknown or malformed account id', async function () {
      assert.equal(await world.ledger.getAccount(randomUUID()), null);
      assert.equal(await world.ledger.getAccount('nope'), null);
    });

    it('lists exactly the accounts of one customer', async function () {
      const owner = await insertCustomer(world.db);
      const wallet = await world.ledger.openAccount({ ownerUserId: owner, type: 'wallet', currency: 'USD' });
      const savings = await world.ledger.openAccount({ ownerUserId: owner, type: 'savings', currency: 'USD' });
      const listed = await world.ledger.listAccounts(owner);
      assert.deepEqual(listed.map((a) => a.id).sort(), [wallet.id, savings.id].sort());
    });

    it('sums a system account\'s balances from its transfers', async function () {
      const settlement = await world.ledger.ensureSystemAccount('biller_settlement', 'CHF');
      const wallet = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'CHF' });
      const before = await world.ledger.systemAccountBalance(settlement.id);
      await world.ledger.createTransfer(posted(settlement.id, wallet.id, 70n, { currency: 'CHF', code: 'adjustment' }));
      await world.ledger.createTransfer(pending(wallet.id, settlement.id, 20n, { currency: 'CHF' }));
      const after = await world.ledger.getAccount(settlement.id);
      assert.equal(after!.totals.debitsPostedMinor - before.totals.debitsPostedMinor, 70n);
      assert.equal(after!.totals.creditsPendingMinor - before.totals.creditsPendingMinor, 20n);
    });

    it('refuses an account whose shape contradicts its type', async function () {
      await inRolledBackTransaction(async (trx) => {
        await assert.rejects(
          trx('ledger_accounts').insert({ id: randomUUID(), owner_user_id: world.userId, type: 'wallet', currency: 'USD', rule: 'none' }),
          { code: '23514' },
        );
      });
    });

    it('refuses, below the engine, totals that break the balance rule', async function () {
      const wallet = await fundedWallet(world, 100n);
      await inRolledBackTransaction(async (trx) => {
        await assert.rejects(trx('ledger_accounts').where({ id: wallet.id }).update({ debits_posted: 101 }), { code: '23514' });
      });
    });
  });

  describe('history', function () {
    let walletId: string;
    let made: Transfer[];

    before(async function () {
      const wallet = await fundedWallet(world, 1_000n);
      const other = await fundedWallet(world, 1_000n);
      walletId = wallet.id;
      made = [];
      // Both sides of the account, a few milliseconds apart: the range filter below takes
      // JavaScript Dates, which hold milliseconds while created_at holds microseconds.
      for (let i = 1; i <= 7; i++) {
        const transfer = i % 2 === 0 ? posted(wallet.id, other.id, BigInt(i)) : posted(other.id, wallet.id, BigInt(i));
        made.push((await world.ledger.createTransfer(transfer)).transfer);
        await setTimeout(3);
      }
    });

    it('lists the transfers on both sides of an account, newest first', async function () {
      const page = await world.ledger.listTransfers(walletId, { limit: 3 });
      assert.deepEqual(
        page.data.map((t) => t.id),
        made.slice(-3).reverse().map((t) => t.id),
      );
    });

    it('pages through the whole history with the cursor, without gaps or repeats', async function () {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await world.ledger.listTransfers(walletId, { limit: 3, cursor });
        seen.push(...page.data.map((t) => t.id));
        cursor = page.nextCursor;
      } while (cursor);
      // The funding transfer is the oldest.
      assert.deepEqual(seen.slice(0, 7), [...made].reverse().map((t) => t.id));
      assert.equal(seen.length, 8);
    });

    it('answers no next cursor on the last page', async function () {
      const page = await world.ledger.listTransfers(walletId, { limit: 100 });
      assert.equal(page.nextCursor, null);
    });

    it('filters by a date range', async function () {
      const page = await world.ledger.listTransfers(walletId, { limit: 100, from: made[2]!.createdAt, to: made[5]!.createdAt });
      assert.deepEqual(
        page.data.map((t) => t.id),
        made.slice(2, 5).reverse().map((t) => t.id),
      );
    });

    it('finds nothing outside the range', async function () {
      const page = await world.ledger.listTransfers(walletId, { limit: 100, from: new Date(Date.now() + DAY_MS) });
      assert.deepEqual(page.data, []);
    });

    it('refuses a cursor it did not issue with invalid_cursor', async function () {
      await assert.rejects(world.ledger.listTransfers(walletId, { limit: 3, cursor: 'bm90LWEtY3Vyc29y' }), (err) => isLedgerError(err, 'invalid_cursor'));
    });

    it('gives the posted balance after each transfer, the last one equal to the account balance', async function () {
      // Funded with 1,000; then +1 −2 +3 −4 +5 −6 +7 (odd ones come in).
      const after = await world.ledger.postedBalancesAfter(walletId, made.map((t) => t.id));
      assert.deepEqual(
        made.map((t) => after.get(t.id)),
        [1001n, 999n, 1002n, 998n, 1003n, 997n, 1004n],
      );
      assert.equal(after.get(made.at(-1)!.id), (await world.ledger.getAccount(walletId))!.balances.postedMinor);
    });

    it('gives a later slice of the history the balances the whole history gives it', async function () {
      const after = await world.ledger.postedBalancesAfter(walletId, made.slice(2, 5).map((t) => t.id));
      assert.deepEqual(
        made.slice(2, 5).map((t) => after.get(t.id)),
        [1002n, 998n, 1003n],
      );
    });

    it('gives the same balances after inside a caller\'s transaction', async function () {
      const after = await world.db.transaction((trx) => createLedger(trx).postedBalancesAfter(walletId, made.slice(2, 5).map((t) => t.id)));
      assert.deepEqual(
        made.slice(2, 5).map((t) => after.get(t.id)),
        [1002n, 998n, 1003n],
      );
    });

    it('gives a system account, which keeps no totals, the balance after each of its transfers', async function () {
      const fees = await world.ledger.ensureSystemAccount('fee_revenue', 'JPY');
      const wallet = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'JPY' });
      const first = posted(fees.id, wallet.id, 100n, { currency: 'JPY', code: 'wallet_funding' });
      const second = posted(fees.id, wallet.id, 50n, { currency: 'JPY', code: 'wallet_funding' });
      for (const t of [first, second]) await world.ledger.createTransfer(t);
      const after = await world.ledger.postedBalancesAfter(fees.id, [first.id, second.id]);
      assert.deepEqual([after.get(first.id), after.get(second.id)], [-100n, -150n]);
    });

    it('gives a hold no posted balance, and its posting the balance after it', async function () {
      const wallet = await fundedWallet(world, 500n);
      const sink = await fundedWallet(world, 0n);
      const hold = (await world.ledger.createTransfer(pending(wallet.id, sink.id, 120n))).transfer;
      const post = (await world.ledger.createTransfer({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id })).transfer;
      const after = await world.ledger.postedBalancesAfter(wallet.id, [hold.id, post.id]);
      assert.equal(after.has(hold.id), false);
      assert.equal(after.get(post.id), 380n);
    });

    it('reads each page with the same balances after as postedBalancesAfter gives, page by page', async function () {
      const wallet = await fundedWallet(world, 500n);
      const sink = await fundedWallet(world, 0n);
      const hold = (await world.ledger.createTransfer(pending(wallet.id, sink.id, 120n))).transfer;
      await world.ledger.createTransfer(posted(wallet.id, sink.id, 30n));
      await world.ledger.createTransfer({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id });
      await world.ledger.createTransfer(posted(sink.id, wallet.id, 7n));
      const everything = (await world.ledger.listTransfers(wallet.id, { limit: 100 })).data;
      const expected = await world.ledger.postedBalancesAfter(wallet.id, everything.map((t) => t.id));
      const seen: Array<[string, bigint | undefined]> = [];
      let cursor: string | null = null;
      do {
        const page: TransferPage = await world.ledger.listTransfers(wallet.id, { limit: 2, cursor, withBalances: true });
        seen.push(...page.data.map((t) => [t.id, page.balancesAfter!.get(t.id)] as [string, bigint | undefined]));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, everything.map((t) => [t.id, expected.get(t.id)]));
      // Funded 500; hold 120 (no posted balance); −30; the hold posted; +7.
      assert.deepEqual(seen.map(([, after]) => after), [357n, 350n, 470n, undefined, 500n]);
    });

    it('reads a system account\'s page with no balances after', async function () {
      const page = await world.ledger.listTransfers(world.clearing.id, { limit: 5, withBalances: true });
      assert.ok(page.data.length > 0);
      assert.equal(page.balancesAfter!.size, 0);
    });
  });

  describe('trial balance', function () {
    it('balances debits and credits in every currency, posted and pending', async function () {
      const wallet = await fundedWallet(world, 500n);
      await world.ledger.createTransfer(pending(wallet.id, world.clearing.id, 200n));
      const rows = await world.ledger.trialBalance();
      assert.ok(rows.some((r) => r.currency === 'USD'));
      for (const row of rows) {
        assert.equal(row.posted.differenceMinor, 0n, `${row.currency} posted`);
        assert.equal(row.pending.differenceMinor, 0n, `${row.currency} pending`);
      }
    });

    it('grows both sides by the amount of a new transfer', async function () {
      const wallet = await fundedWallet(world, 0n);
      const usd = async () => (await world.ledger.trialBalance()).find((r) => r.currency === 'USD')!;
      const before = await usd();
      await world.ledger.createTransfer(posted(world.clearing.id, wallet.id, 1_234n));
      const after = await usd();
      assert.equal(after.posted.debitsMinor - before.posted.debitsMinor, 1_234n);
      assert.equal(after.posted.creditsMinor - before.posted.creditsMinor, 1_234n);
    });
  });

  describe('derived ids', function () {
    it('derives the same transfer id from the same key, and another from another', function () {
      assert.equal(transferIdFrom('payment:42:hold'), transferIdFrom('payment:42:hold'));
      assert.notEqual(transferIdFrom('payment:42:hold'), transferIdFrom('payment:42:post'));
    });

    it('derives version 5 uuids as RFC 9562 specifies', function () {
      // The RFC's example: the DNS namespace and "www.example.com".
      assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    });

    it('keeps transfer and account ids of one key apart', function () {
      assert.notEqual(transferIdFrom('k'), accountIdFrom('k'));
    });
  });

  describe('history is never edited', function () {
    let transferId: string;
    let pendingId: string;

    before(async function () {
      const wallet = await fundedWallet(world, 100n);
      const { transfer } = await world.ledger.createTransfer(posted(wallet.id, world.clearing.id, 10n, { metadata: { name: 'Ada' } }));
      transferId = transfer.id;
      const hold = pending(wallet.id, world.clearing.id, 5n);
      await world.ledger.createTransfers([hold, { id: randomUUID(), kind: 'void_pending', pendingId: hold.id }]);
      pendingId = hold.id;
    });

    it('refuses to update a transfer\'s amount', async function () {
      await inRolledBackTransaction(async (trx) => {
        await assert.rejects(trx('ledger_transfers').where({ id: transferId }).update({ amount_minor: 11 }), { code: '23001' });
      });
    });

    it('refuses to delete a transfer', async function () {
      await inRolledBackTransaction(async (trx) => {
        await assert.rejects(trx('ledger_transfers').where({ id: transferId }).delete(), { code: '23001' });
      });
    });

    it('refuses to truncate the transfers', async function () {
      await inRolledBackTransaction(async (trx) => {
        await assert.rejects(trx.raw('truncate ledger_transfers cascade'), { code: '23001' });
      });
    });

    it('refuses to delete a pending resolution', async function () {
      await inRolledBackTransaction(async (trx) => {
        await assert.rejects(trx('ledger_pending_resolutions').where({ pending_id: pendingId }).delete(), { code: '23001' });
      });
    });

    it('lets an update change metadata alone, for anonymisation', async function () {
      await inRolledBackTransaction(async (trx) => {
        await trx('ledger_transfers').where({ id: transferId }).update({ metadata: { name: null } });
        const row = await trx('ledger_transfers').where({ id: transferId }).first('metadata');
        assert.deepEqual(row.metadata, { name: null });
      });
    });
  });
});
