import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { AccountTotals, BalanceRule, TransferInput } from '../../src/ledger/types';
import { audit, ledgerWorld, type LedgerWorld } from '../ledger/fixtures';

/**
 * Random sequences of transfers (posted, pending, post, void, retries, batches linked or
 * not, amounts including too large and not positive) applied both to the ledger and to
 * a model that applies the rules one transfer at a time, in plain TypeScript. Every
 * result must agree, then every balance; the ledger must also stay balanced and within
 * its rules.
 */

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

interface ModelAccount extends AccountTotals {
  rule: BalanceRule;
  currency: string;
  limit: bigint;
}

interface ModelTransfer {
  input: TransferInput;
  amountMinor: bigint;
}

interface Model {
  accounts: Map<string, ModelAccount>;
  transfers: Map<string, ModelTransfer>;
  /** Pending transfers by id, with whether they are resolved. */
  pendings: Map<string, { debit: string; credit: string; amountMinor: bigint; resolved: boolean }>;
}

const clone = (m: Model): Model => ({
  accounts: new Map([...m.accounts].map(([id, a]) => [id, { ...a }])),
  transfers: new Map(m.transfers),
  pendings: new Map([...m.pendings].map(([id, p]) => [id, { ...p }])),
});

function sameInput(stored: ModelTransfer, t: TransferInput): boolean {
  const s = stored.input;
  if ((s.kind ?? 'posted') !== (t.kind ?? 'posted')) return false;
  if ('pendingId' in t) return 'pendingId' in s && s.pendingId === t.pendingId && (!('amountMinor' in t) || t.amountMinor === undefined || t.amountMinor === stored.amountMinor);
  return 'debitAccountId' in s && s.debitAccountId === t.debitAccountId && s.creditAccountId === t.creditAccountId && s.amountMinor === t.amountMinor;
}

/** Applies one transfer to the model, in the order of checks of docs/ledger.md. */
function apply(m: Model, t: TransferInput): string {
  const stored = m.transfers.get(t.id);
  if (stored) return sameInput(stored, t) ? 'exists' : 'exists_with_different_fields';
  const amount = 'amountMinor' in t ? t.amountMinor : undefined;
  if (amount !== undefined && amount <= 0n) return 'amount_must_be_positive';

  if ('debitAccountId' in t) {
    if (t.debitAccountId === t.creditAccountId) return 'accounts_must_differ';
    const debit = m.accounts.get(t.debitAccountId);
    const credit = m.accounts.get(t.creditAccountId);
    if (!debit || !credit) return 'account_not_found';
    if (debit.currency !== t.currency || credit.currency !== t.currency) return 'currency_mismatch';
    const room = debit.creditsPostedMinor - debit.debitsPostedMinor - debit.debitsPendingMinor + debit.limit;
    if (debit.rule !== 'none' && t.amountMinor > room) return debit.rule === 'debits_within_limit' ? 'exceeds_credit_limit' : 'insufficient_funds';
    if (t.kind === 'pending') {
      debit.debitsPendingMinor += t.amountMinor;
      credit.creditsPendingMinor += t.amountMinor;
      m.pendings.set(t.id, { debit: t.debitAccountId, credit: t.creditAccountId, amountMinor: t.amountMinor, resolved: false });
    } else {
      debit.debitsPostedMinor += t.amountMinor;
      credit.creditsPostedMinor += t.amountMinor;
    }
    m.transfers.set(t.id, { input: t, amountMinor: t.amountMinor });
    return 'created';
  }

  const held = m.pendings.get(t.pendingId);
  if (!held) return 'pending_not_found';
  if (held.resolved) return 'pending_already_resolved';
  const posting = t.kind === 'post_pending' ? (amount ?? held.amountMinor) : 0n;
  if (posting > held.amountMinor) return 'amount_exceeds_pending';
  const debit = m.accounts.get(held.debit)!;
  const credit = m.accounts.get(held.credit)!;
  debit.debitsPendingMinor -= held.amountMinor;
  credit.creditsPendingMinor -= held.amountMinor;
  debit.debitsPostedMinor += posting;
  credit.creditsPostedMinor += posting;
  held.resolved = true;
  m.transfers.set(t.id, { input: t, amountMinor: t.kind === 'post_pending' ? posting : held.amountMinor });
  return 'created';
}

/** A batch, one transfer after another; linked, it applies whole or not at all. */
function applyBatch(m: Model, transfers: TransferInput[], linked: boolean): { model: Model; statuses: string[] } {
  const work = clone(m);
  const statuses: string[] = [];
  for (const t of transfers) {
    const status = apply(work, t);
    statuses.push(status);
    if (linked && status !== 'created' && status !== 'exists') {
      return { model: m, statuses: transfers.map((_, i) => (i === statuses.length - 1 ? status : 'linked_event_failed')) };
    }
  }
  return { model: work, statuses };
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

/** Indexes into the run's accounts: 0 system, 1-3 wallets, 4 credit card, 5 EUR wallet, 6 unknown. */
const ACCOUNTS = 7;
const FUNDING = 1_000n;
const CARD_LIMIT = 800n;

/** 'all' is what the debit account may spend at that point; 'beyond' one more. */
type Amount = bigint | 'all' | 'beyond';

type Step =
  | { type: 'posted' | 'pending'; debit: number; credit: number; amount: Amount }
  | { type: 'post'; pending: number; amount: bigint | undefined }
  | { type: 'void'; pending: number }
  | { type: 'retry'; of: number; changeAmount: boolean };

type Op = { type: 'one'; step: Step } | { type: 'batch'; steps: Step[]; linked: boolean };

const amountArb = fc.oneof({ weight: 10, arbitrary: fc.bigInt(1n, 1_200n) }, { weight: 1, arbitrary: fc.constantFrom(0n, -7n, 10n ** 9n) });
// Mostly the five USD accounts; now and then the EUR wallet or the unknown one.
const accountArb = fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 4 }) }, { weight: 1, arbitrary: fc.nat({ max: ACCOUNTS - 1 }) });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constantFrom('posted' as const, 'pending' as const),
      debit: accountArb,
      credit: accountArb,
      amount: fc.oneof({ weight: 4, arbitrary: amountArb }, { weight: 1, arbitrary: fc.constantFrom('all' as const, 'beyond' as const) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('post' as const), pending: fc.nat(20), amount: fc.option(amountArb, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('void' as const), pending: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('retry' as const), of: fc.nat(40), changeAmount: fc.boolean() }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('one' as const), step: stepArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('batch' as const), steps: fc.array(stepArb, { minLength: 2, maxLength: 4 }), linked: fc.boolean() }) },
);

/** One of the pending ids sent so far, or (one time in n + 1) an unknown one. */
const pick = (pendingIds: string[], k: number) => pendingIds[k % (pendingIds.length + 1)] ?? randomUUID();

/** What an account may spend now, by the model (a system account: an arbitrary 100). */
function spendable(m: Model, accountId: string): bigint {
  const a = m.accounts.get(accountId);
  if (!a || a.rule === 'none') return 100n;
  return a.creditsPostedMinor - a.debitsPostedMinor - a.debitsPendingMinor + a.limit;
}

/** Turns a step into a transfer input, given the run's accounts, the model, and what was sent so far. */
function toInput(step: Step, accountIds: string[], m: Model, pendingIds: string[], sent: TransferInput[]): TransferInput {
  const id = randomUUID();
  switch (step.type) {
    case 'posted':
    case 'pending': {
      const debitAccountId = accountIds[step.debit]!;
      const all = spendable(m, debitAccountId);
      const amountMinor = step.amount === 'all' ? all : step.amount === 'beyond' ? all + 1n : step.amount;
      return { id, kind: step.type, debitAccountId, creditAccountId: accountIds[step.credit]!, amountMinor, currency: 'USD', code: 'p2p_transfer' };
    }
    case 'post':
      return { id, kind: 'post_pending', pendingId: pick(pendingIds, step.pending), ...(step.amount === undefined ? {} : { amountMinor: step.amount }) };
    case 'void':
      return { id, kind: 'void_pending', pendingId: pick(pendingIds, step.pending) };
    case 'retry': {
      const earlier = sent[step.of % Math.max(sent.length, 1)];
      if (!earlier) return { id, kind: 'void_pending', pendingId: randomUUID() };
      if (step.changeAmount && 'debitAccountId' in earlier) return { ...earlier, amountMinor: earlier.amountMinor + 1n };
      return earlier;
    }
  }
}

// ---------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------

describe('ledger properties', function () {
  this.timeout(120_000);
  let world: LedgerWorld;

  before(async function () {
    world = await ledgerWorld();
  });

  /** Fresh accounts, funded, and the model of them; the system account is shared, so its totals are measured from here. */
  async function openRun(): Promise<{ accountIds: string[]; model: Model; clearingBefore: AccountTotals }> {
    const { ledger, userId, clearing } = world;
    const clearingBefore = (await ledger.systemAccountBalance(clearing.id)).totals;
    const wallets = await Promise.all([1, 2, 3].map(() => ledger.openAccount({ ownerUserId: userId, type: 'wallet', currency: 'USD' })));
    const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: CARD_LIMIT });
    const euros = await ledger.openAccount({ ownerUserId: userId, type: 'wallet', currency: 'EUR' });
    const accountIds = [clearing.id, ...wallets.map((w) => w.id), card.id, euros.id, randomUUID()];
    const zero = { debitsPostedMinor: 0n, debitsPendingMinor: 0n, creditsPostedMinor: 0n, creditsPendingMinor: 0n };
    const model: Model = { accounts: new Map(), transfers: new Map(), pendings: new Map() };
    model.accounts.set(clearing.id, { ...zero, rule: 'none', currency: 'USD', limit: 0n });
    for (const w of wallets) model.accounts.set(w.id, { ...zero, rule: 'debits_within_credits', currency: 'USD', limit: 0n });
    model.accounts.set(card.id, { ...zero, rule: 'debits_within_limit', currency: 'USD', limit: CARD_LIMIT });
    model.accounts.set(euros.id, { ...zero, rule: 'debits_within_credits', currency: 'EUR', limit: 0n });
    const funding = wallets.map((w) => ({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: w.id, amountMinor: FUNDING, currency: 'USD', code: 'wallet_funding' as const }));
    await ledger.createTransfers(funding);
    for (const t of funding) apply(model, t);
    return { accountIds, model, clearingBefore };
  }

  it('agrees with the model on every result and balance, and stays balanced within its rules', async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40, size: 'max' }), async (ops) => {
        const { accountIds, model: start, clearingBefore } = await openRun();
        let model = start;
        const sent: TransferInput[] = [];
        const pendingIds: string[] = [];
        for (const op of ops) {
          const inputs: TransferInput[] = [];
          for (const step of op.type === 'one' ? [op.step] : op.steps) {
            const input = toInput(step, accountIds, model, pendingIds, [...sent, ...inputs]);
            inputs.push(input);
            if (input.kind === 'pending' && !pendingIds.includes(input.id)) pendingIds.push(input.id);
          }
          sent.push(...inputs);
          const linked = op.type === 'batch' && op.linked;
          const actual = (await world.ledger.createTransfers(inputs, { linked })).map((r) => r.status);
          const expected = applyBatch(model, inputs, linked);
          assert.deepEqual(actual, expected.statuses, `op ${JSON.stringify(op, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
          model = expected.model;
        }

        for (const id of accountIds.slice(1, 6)) {
          const { stored, summed } = await audit(world.db, id);
          const { rule, currency: _c, limit, ...expected } = model.accounts.get(id)!;
          assert.deepEqual(stored, expected, `totals of ${id}`);
          assert.deepEqual(summed, stored, `sums of ${id}`);
          assert.ok(stored.debitsPostedMinor + stored.debitsPendingMinor <= stored.creditsPostedMinor + limit, `${rule} of ${id}`);
        }
        const clearingAfter = (await world.ledger.systemAccountBalance(world.clearing.id)).totals;
        const { rule: _r, currency: _c, limit: _l, ...clearingModel } = model.accounts.get(world.clearing.id)!;
        const moved = Object.fromEntries(
          (Object.keys(clearingAfter) as Array<keyof AccountTotals>).map((k) => [k, clearingAfter[k] - clearingBefore[k]]),
        );
        assert.deepEqual(moved, clearingModel, 'totals of the system account');
        for (const row of await world.ledger.trialBalance()) {
          assert.equal(row.posted.differenceMinor, 0n, `${row.currency} posted`);
          assert.equal(row.pending.differenceMinor, 0n, `${row.currency} pending`);
        }
      }),
      { numRuns: 30 },
    );
  });
});
