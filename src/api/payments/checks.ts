import type { Account } from '../../ledger/types';
import { formatMoney } from '../../money/money';
import type { Biller } from '../../payments/billers/port';
import { isWithinLimits } from '../../payments/quote';
import { PAYING_ACCOUNT_TYPES } from '../../payments/repository';
import { activeBiller, assertReferenceFormat } from '../billers/checks';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { ownAccount } from '../core/own-account';

/**
 * The up-front checks of a payment, made by a one-off bill payment, a recurring one and
 * a quote alike (a card payment makes the account check): everything a client can fix
 * is refused before any workflow starts; the funds check every money request shares is
 * `assertFunded` (core/money-requests.ts).
 * The workflow checks again, because balances move and a biller can change between
 * the request and the hold.
 */

/** What names a bill in every payment request. */
export interface Bill {
  billerId: string;
  customerRef: string;
  /** Minor units, as the request carries them. */
  amount: string;
}

/** The bill's biller exists and is active, the reference is in its format and the amount within its limits. */
export async function checkBill(app: AppContext, bill: Bill): Promise<{ biller: Biller; amountMinor: bigint }> {
  const biller = await activeBiller(app.deps.db, bill.billerId, 'billerId', 'body');
  assertReferenceFormat(biller, bill.customerRef);
  const amountMinor = BigInt(bill.amount);
  if (!isWithinLimits(biller, amountMinor)) {
    throw problems.amountOutOfRange(formatMoney(biller.minAmountMinor, biller.currency), formatMoney(biller.maxAmountMinor, biller.currency));
  }
  return { biller, amountMinor };
}

/** The payer's account a payment draws on: theirs, their own money (a wallet or savings), in `currency`. */
export async function payingAccount(app: AppContext, userId: string, accountId: string, currency: string): Promise<Account> {
  const account = await ownAccount(app.deps.ledger, userId, accountId, 'fromAccountId');
  if (!PAYING_ACCOUNT_TYPES.has(account.type)) {
    throw problems.field('body', 'fromAccountId', 'not_a_paying_account', 'Payments are made from a wallet or a savings account.');
  }
  if (account.currency !== currency) throw problems.currencyMismatch('fromAccountId');
  return account;
}
