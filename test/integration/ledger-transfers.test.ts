import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LedgerError } from '../../src/ledger/errors';
import { transferIdFrom } from '../../src/ledger/ids';
import type { Account, TransferInput } from '../../src/ledger/types';
import { audit, available, fundedWallet, ledgerWorld, pending, posted, type LedgerWorld } from '../ledger/fixtures';

/**
 * The transfer engine on the run's PostgreSQL: every result code, idempotency, two-phase
 * transfers, batches and linked batches. Each test works on fresh accounts.
 */

const MAX_INT8 = 2n ** 63n - 1n;
const HOUR_MS = 3_600_000;

describe('ledger transfers', function () {
  let world: LedgerWorld;
  let alice: Account;
  let bob: Account;

  before(async function () {
    this.timeout(120_000);
    world = await ledgerWorld();
  });

  beforeEach(async function () {
    alice = await fundedWallet(world, 1_000n);
    bob = await fundedWallet(world, 0n);
  });

  const statusOf = async (transfer: TransferInput) => (await world.ledger.createTransfers([transfer]))[0]!.status;

  describe('posted', function () {
    it('moves the amount from the debit account to the credit account', async function () {
      await world.ledger.createTransfer(posted(alice.id, bob.id, 300n));
      assert.equal(await available(world, alice.id), 700n);
      assert.equal(await available(world, bob.id), 300n);
    });

    it('keeps the account totals equal to the sums of its transfers', async function () {
      await world.ledger.createTransfer(posted(alice.id, bob.id, 300n));
      await world.ledger.createTransfer(pending(bob.id, alice.id, 100n));
      const { stored, summed } = await audit(world.db, bob.id);
      assert.deepEqual(stored, summed);
    });

    it('answers exists for the same id with the same fields, and moves nothing more', async function () {
      const transfer = posted(alice.id, bob.id, 300n, { metadata: { note: 'rent' } });
      const first = await world.ledger.createTransfer(transfer);
      const again = await world.ledger.createTransfer(transfer);
      assert.equal(again.status, 'exists');
      assert.deepEqual(again.transfer, first.transfer);
      assert.equal(await available(world, alice.id), 700n);
    });

    it('answers exists_with_different_fields for the same id with another amount', async function () {
      const transfer = posted(alice.id, bob.id, 300n);
      await world.ledger.createTransfer(transfer);
      assert.equal(await statusOf({ ...transfer, amountMinor: 301n }), 'exists_with_different_fields');
      assert.equal(await available(world, alice.id), 700n);
    });

    it('answers exists_with_different_fields for the same id with other metadata', async function () {
      const transfer = posted(alice.id, bob.id, 300n, { metadata: { note: 'rent' } });
      await world.ledger.createTransfer(transfer);
      assert.equal(await statusOf({ ...transfer, metadata: { note: 'food' } }), 'exists_with_different_fields');
    });

    it('rejects a zero amount with amount_must_be_positive', async function () {
      assert.equal(await statusOf(posted(alice.id, bob.id, 0n)), 'amount_must_be_positive');
    });

    it('rejects a negative amount with amount_must_be_positive', async function () {
      assert.equal(await statusOf(posted(alice.id, bob.id, -5n)), 'amount_must_be_positive');
    });

    it('rejects an amount beyond 64 bits with amount_too_large', async function () {
      assert.equal(await statusOf(posted(world.clearing.id, bob.id, MAX_INT8 + 1n)), 'amount_too_large');
    });

    it('rejects a credit that would overflow a 64-bit total with amount_too_large', async function () {
      await world.ledger.createTransfer(posted(world.clearing.id, bob.id, MAX_INT8 - 10n));
      assert.equal(await statusOf(posted(world.clearing.id, bob.id, 11n)), 'amount_too_large');
      assert.equal(await available(world, bob.id), MAX_INT8 - 10n);
    });

    it('rejects a transfer from an account to itself with accounts_must_differ', async function () {
      assert.equal(await statusOf(posted(alice.id, alice.id, 1n)), 'accounts_must_differ');
    });

    it('rejects an unknown debit account with account_not_found', async function () {
      assert.equal(await statusOf(posted(randomUUID(), bob.id, 1n)), 'account_not_found');
    });

    it('rejects an unknown credit account with account_not_found', async function () {
      assert.equal(await statusOf(posted(alice.id, randomUUID(), 1n)), 'account_not_found');
    });

    it('rejects a currency other than the accounts\' with currency_mismatch', async function () {
      assert.equal(await statusOf(posted(alice.id, bob.id, 1n, { currency: 'EUR' })), 'currency_mismatch');
    });

    it('rejects accounts of different currencies with currency_mismatch', async function () {
      const euros = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'wallet', currency: 'EUR' });
      assert.equal(await statusOf(posted(alice.id, euros.id, 1n)), 'currency_mismatch');
    });

    it('refuses to overdraw a wallet with insufficient_funds', async function () {
      assert.equal(await statusOf(posted(alice.id, bob.id, 1_001n)), 'insufficient_funds');
      assert.equal(await available(world, alice.id), 1_000n);
    });

    it('lets a wallet spend exactly its balance', async function () {
      assert.equal(await statusOf(posted(alice.id, bob.id, 1_000n)), 'created');
      assert.equal(await available(world, alice.id), 0n);
    });

    it('lets a credit card go below zero down to its limit', async function () {
      const card = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 500n });
      await world.ledger.createTransfer(posted(card.id, bob.id, 500n, { code: 'card_purchase' }));
      const after = await world.ledger.getAccount(card.id);
      assert.equal(after!.balances.postedMinor, -500n);
      assert.equal(after!.balances.availableMinor, 0n);
    });

    it('refuses to take a credit card beyond its limit with exceeds_credit_limit', async function () {
      const card = await world.ledger.openAccount({ ownerUserId: world.userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 500n });
      assert.equal(await statusOf(posted(card.id, bob.id, 501n, { code: 'card_purchase' })), 'exceeds_credit_limit');
    });

    it('never constrains a system account', async function () {
      const fees = await world.ledger.ensureSystemAccount('fee_revenue', 'USD');
      const before = await world.ledger.systemAccountBalance(fees.id);
      await world.ledger.createTransfer(posted(fees.id, bob.id, 10n ** 12n, { code: 'adjustment' }));
      const after = await world.ledger.systemAccountBalance(fees.id);
      assert.equal(after.balances.postedMinor, before.balances.postedMinor - 10n ** 12n);
    });
  });

  describe('two-phase', function () {
    it('holds funds with a pending transfer: available drops, posted does not', async function () {
      await world.ledger.createTransfer(pending(alice.id, bob.id, 400n));
      const account = await world.ledger.getAccount(alice.id);
      assert.deepEqual(account!.balances, { postedMinor: 1_000n, pendingMinor: -400n, availableMinor: 600n });
    });

    it('counts held funds against what may still be spent', async function () {
      await world.ledger.createTransfer(pending(alice.id, bob.id, 400n));
      assert.equal(await statusOf(posted(alice.id, bob.id, 601n)), 'insufficient_funds');
    });

    it('posts the whole pending when post_pending names no amount', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      const { transfer } = await world.ledger.createTransfer({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id });
      assert.equal(transfer.amountMinor, 400n);
      assert.equal(await available(world, alice.id), 600n);
      assert.equal(await available(world, bob.id), 400n);
    });

    it('posts part of a pending and releases the rest', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      await world.ledger.createTransfer({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id, amountMinor: 150n });
      const account = await world.ledger.getAccount(alice.id);
      assert.deepEqual(account!.balances, { postedMinor: 850n, pendingMinor: 0n, availableMinor: 850n });
    });

    it('gives a resolution the accounts, currency and code of its pending', async function () {
      const hold = pending(alice.id, bob.id, 400n, { code: 'bill_payment' });
      await world.ledger.createTransfer(hold);
      const { transfer } = await world.ledger.createTransfer({ id: randomUUID(), kind: 'void_pending', pendingId: hold.id });
      assert.deepEqual(
        [transfer.debitAccountId, transfer.creditAccountId, transfer.currency, transfer.code, transfer.pendingId],
        [alice.id, bob.id, 'USD', 'bill_payment', hold.id],
      );
    });

    it('refuses to post more than the pending holds with amount_exceeds_pending', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      assert.equal(await statusOf({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id, amountMinor: 401n }), 'amount_exceeds_pending');
    });

    it('voids a pending, releasing the hold', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      await world.ledger.createTransfer({ id: randomUUID(), kind: 'void_pending', pendingId: hold.id });
      const account = await world.ledger.getAccount(alice.id);
      assert.deepEqual(account!.balances, { postedMinor: 1_000n, pendingMinor: 0n, availableMinor: 1_000n });
    });

    it('resolves a pending once: a second resolution gets pending_already_resolved', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      await world.ledger.createTransfer({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id });
      assert.equal(await statusOf({ id: randomUUID(), kind: 'void_pending', pendingId: hold.id }), 'pending_already_resolved');
      assert.equal(await available(world, bob.id), 400n);
    });

    it('answers exists to a retried resolution', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      const post = { id: randomUUID(), kind: 'post_pending' as const, pendingId: hold.id };
      await world.ledger.createTransfer(post);
      assert.equal(await statusOf(post), 'exists');
    });

    it('answers pending_not_found for an unknown pending', async function () {
      assert.equal(await statusOf({ id: randomUUID(), kind: 'void_pending', pendingId: randomUUID() }), 'pending_not_found');
    });

    it('answers pending_not_found for a transfer that is not pending', async function () {
      const paid = posted(alice.id, bob.id, 10n);
      await world.ledger.createTransfer(paid);
      assert.equal(await statusOf({ id: randomUUID(), kind: 'void_pending', pendingId: paid.id }), 'pending_not_found');
    });

    it('refuses to post a pending past its timeout with pending_expired', async function () {
      const hold = pending(alice.id, bob.id, 400n, { timeoutAt: new Date(Date.now() - 1_000) });
      await world.ledger.createTransfer(hold);
      assert.equal(await statusOf({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id }), 'pending_expired');
    });

    it('refuses to void a pending past its timeout with pending_expired', async function () {
      const hold = pending(alice.id, bob.id, 400n, { timeoutAt: new Date(Date.now() - 1_000) });
      await world.ledger.createTransfer(hold);
      assert.equal(await statusOf({ id: randomUUID(), kind: 'void_pending', pendingId: hold.id }), 'pending_expired');
    });

    it('refuses to expire a pending before its timeout with pending_not_expired', async function () {
      const hold = pending(alice.id, bob.id, 400n, { timeoutAt: new Date(Date.now() + HOUR_MS) });
      await world.ledger.createTransfer(hold);
      assert.equal(await statusOf({ id: randomUUID(), kind: 'expire_pending', pendingId: hold.id }), 'pending_not_expired');
    });

    it('refuses to expire a pending that has no timeout with pending_not_expired', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      await world.ledger.createTransfer(hold);
      assert.equal(await statusOf({ id: randomUUID(), kind: 'expire_pending', pendingId: hold.id }), 'pending_not_expired');
    });

    it('expires every pending past its timeout, releasing its hold', async function () {
      const hold = pending(alice.id, bob.id, 400n, { timeoutAt: new Date(Date.now() - 1_000) });
      await world.ledger.createTransfer(hold);
      const { expired } = await world.ledger.expirePendingTransfers(new Date());
      assert.ok(expired >= 1, `expired ${expired}`);
      const expiry = await world.ledger.getTransfer(transferIdFrom(`expire_pending:${hold.id}`));
      assert.equal(expiry?.kind, 'expire_pending');
      assert.equal(await available(world, alice.id), 1_000n);
    });

    it('leaves a pending whose timeout is still ahead when expiring', async function () {
      const hold = pending(alice.id, bob.id, 400n, { timeoutAt: new Date(Date.now() + HOUR_MS) });
      await world.ledger.createTransfer(hold);
      await world.ledger.expirePendingTransfers(new Date());
      assert.equal(await statusOf({ id: randomUUID(), kind: 'post_pending', pendingId: hold.id }), 'created');
    });
  });

  describe('batches', function () {
    it('applies a batch in order against running totals', async function () {
      const results = await world.ledger.createTransfers([posted(alice.id, bob.id, 600n), posted(alice.id, bob.id, 600n), posted(bob.id, alice.id, 100n)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['created', 'insufficient_funds', 'created'],
      );
      assert.equal(await available(world, alice.id), 500n);
    });

    it('fails a linked batch as a whole: the failure carries its code, the others linked_event_failed', async function () {
      const results = await world.ledger.createTransfers([posted(alice.id, bob.id, 600n), posted(alice.id, bob.id, 600n), posted(bob.id, alice.id, 1n)], {
        linked: true,
      });
      assert.deepEqual(
        results.map((r) => r.status),
        ['linked_event_failed', 'insufficient_funds', 'linked_event_failed'],
      );
    });

    it('writes nothing of a failed linked batch', async function () {
      const first = posted(alice.id, bob.id, 600n);
      await world.ledger.createTransfers([first, posted(alice.id, bob.id, 600n)], { linked: true });
      assert.equal(await world.ledger.getTransfer(first.id), null);
      assert.equal(await available(world, alice.id), 1_000n);
    });

    it('applies a linked batch whole when every transfer passes', async function () {
      const fees = await world.ledger.ensureSystemAccount('fee_revenue', 'USD');
      const results = await world.ledger.createTransfers([posted(alice.id, bob.id, 600n), posted(alice.id, fees.id, 10n, { code: 'fee' })], { linked: true });
      assert.deepEqual(
        results.map((r) => r.status),
        ['created', 'created'],
      );
      assert.equal(await available(world, alice.id), 390n);
    });

    it('resolves a pending created earlier in the same batch', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      const results = await world.ledger.createTransfers([hold, { id: randomUUID(), kind: 'post_pending', pendingId: hold.id, amountMinor: 100n }]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['created', 'created'],
      );
      assert.equal(await available(world, alice.id), 900n);
    });

    it('resolves a pending only once within one batch', async function () {
      const hold = pending(alice.id, bob.id, 400n);
      const results = await world.ledger.createTransfers([
        hold,
        { id: randomUUID(), kind: 'void_pending', pendingId: hold.id },
        { id: randomUUID(), kind: 'post_pending', pendingId: hold.id },
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['created', 'created', 'pending_already_resolved'],
      );
    });

    it('answers exists for an id repeated within a batch', async function () {
      const transfer = posted(alice.id, bob.id, 100n);
      const results = await world.ledger.createTransfers([transfer, transfer, { ...transfer, amountMinor: 5n }]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['created', 'exists', 'exists_with_different_fields'],
      );
      assert.equal(await available(world, alice.id), 900n);
    });
  });

  describe('createTransfer', function () {
    it('throws a LedgerError whose code names the failure', async function () {
      await assert.rejects(world.ledger.createTransfer(posted(alice.id, bob.id, 5_000n)), (err: unknown) => {
        assert.ok(err instanceof LedgerError);
        assert.equal(err.code, 'insufficient_funds');
        return true;
      });
    });

    it('rejects a malformed transfer with a TypeError before reaching the database', async function () {
      await assert.rejects(world.ledger.createTransfer({ ...posted(alice.id, bob.id, 5n), id: 'not-a-uuid' }), TypeError);
    });

    it('rejects a code that is not snake_case with a TypeError', async function () {
      const transfer = { ...posted(alice.id, bob.id, 5n), code: 'Wallet-Funding' } as unknown as TransferInput;
      await assert.rejects(world.ledger.createTransfer(transfer), TypeError);
    });

    it('rejects an amount given as a number rather than a bigint', async function () {
      const transfer = { ...posted(alice.id, bob.id, 5n), amountMinor: 5 } as unknown as TransferInput;
      await assert.rejects(world.ledger.createTransfer(transfer), TypeError);
    });
  });

  describe('the engine called directly', function () {
    it('refuses a malformed transfer with invalid_parameter_value', async function () {
      const malformed = { id: randomUUID(), kind: 'void_pending', pending_id: randomUUID(), currency: 'USD' };
      await assert.rejects(world.db.raw('select * from ledger_create_transfer(?::jsonb)', [JSON.stringify(malformed)]), { code: '22023' });
    });
  });
});
