import assert from 'node:assert/strict';
import { balanceSentence, cardDues, DEFAULT_CARD_TERMS } from '../../src/activities/banking/card-terms';
import type { Account } from '../../src/ledger/types';

/** A card's dues as banks state them: outstanding, minimum due (a share with a floor, capped), due date. */
describe('card terms', () => {
  const statementDate = new Date('2026-11-30T23:59:59Z');

  it('asks 5 % of the outstanding as the minimum due when that is above the floor', () => {
    assert.deepEqual(cardDues(DEFAULT_CARD_TERMS, -120_000n, statementDate), { outstandingMinor: 120_000n, minimumDueMinor: 6_000n, paymentDueDate: '2026-12-21' });
  });

  it('asks the floor when 5 % is less, and never more than the outstanding', () => {
    assert.deepEqual(
      [cardDues(DEFAULT_CARD_TERMS, -10_000n, statementDate).minimumDueMinor, cardDues(DEFAULT_CARD_TERMS, -1_000n, statementDate).minimumDueMinor],
      [2_500n, 1_000n],
    );
  });

  it('owes nothing on a card in credit', () => {
    assert.deepEqual(cardDues(DEFAULT_CARD_TERMS, 500n, statementDate), { outstandingMinor: 0n, minimumDueMinor: 0n, paymentDueDate: '2026-12-21' });
  });

  it("words a card's alert balance as the outstanding amount and the credit left", () => {
    const card = { type: 'credit_card', currency: 'USD', balances: { postedMinor: -120_000n, pendingMinor: 0n, availableMinor: 380_000n } } as Account;
    assert.equal(balanceSentence(card), 'Total outstanding: USD 1,200.00. Available credit: USD 3,800.00.');
  });
});
