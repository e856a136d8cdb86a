import { cashbackGrantedInMonth } from '../../payments/billers/repository';
import { findCashbackAccount } from '../../payments/cashback-accounts';
import { calendarMonth } from '../../payments/cashback';
import { quotePayment } from '../../payments/quote';
import { validateCustomer } from '../billers/checks';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { ownAccount } from '../core/own-account';
import { checkBill } from './checks';
import { presentQuote } from './presenters';
import type { QuoteBody } from './schema';

/**
 * What paying a bill would cost and earn, answered without a workflow: the payment's own
 * up-front checks, the customer at the biller, and this month's cashback so far. The
 * account is optional; given, it must be the caller's and in the biller's currency. With
 * `useCashback`, the quote splits the total between the cashback balance now and the account.
 */
export async function quoteFor(app: AppContext, userId: string, body: QuoteBody) {
  const { biller, amountMinor } = await checkBill(app, body);
  const account = body.fromAccountId ? await ownAccount(app.deps.ledger, userId, body.fromAccountId, 'fromAccountId') : null;
  if (account && account.currency !== biller.currency) throw problems.currencyMismatch('fromAccountId');
  const customer = await validateCustomer(app.deps.billers, biller, body.customerRef);
  const monthToDate = await cashbackGrantedInMonth(app.deps.db, userId, calendarMonth(app.deps.now()), biller.currency);
  const spendable = body.useCashback ? ((await findCashbackAccount(app.deps.ledger, userId, biller.currency))?.balances.availableMinor ?? 0n) : undefined;
  const quote = quotePayment(biller, amountMinor, monthToDate, spendable);
  const sufficientFunds = account ? account.balances.availableMinor >= (quote.spend?.walletMinor ?? quote.totalMinor) : null;
  return presentQuote(quote, { customerRef: body.customerRef, customerName: customer.customerName }, sufficientFunds);
}
