import type { Knex } from 'knex';
import { presentAccount } from '../accounts/presenters';
import { presentTransactionPage } from '../accounts/service';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { upcomingRecurringPayments } from '../recurring-payments/service';

/** The signed-in customer's own views: the dashboard and notification preferences. */

const RECENT_ACTIVITY = 10;

/** Cashback credited to the accounts (posted, or pending and since posted), per currency. */
async function cashbackEarned(db: Knex, accountIds: string[]) {
  if (accountIds.length === 0) return [];
  const rows = (await db('ledger_transfers')
    .select('currency')
    .sum({ amount: 'amount_minor' })
    .whereIn('credit_account_id', accountIds)
    .where({ code: 'cashback' })
    .whereIn('kind', ['posted', 'post_pending'])
    .groupBy('currency')
    .orderBy('currency')) as Array<{ currency: string; amount: string }>;
  return rows.map((r) => ({ currency: r.currency, amount: String(r.amount) }));
}

/**
 * Balances, the latest activity across every account, cashback earned and upcoming
 * recurring payments. The reads that do not wait on each other run at once: recurring
 * payments with the accounts, cashback with the pages.
 */
export async function dashboardOf(app: AppContext, userId: string) {
  const ledger = app.deps.ledger;
  const upcoming = upcomingRecurringPayments(app, userId);
  void upcoming.catch(() => undefined);
  const accounts = await ledger.listAccounts(userId);
  const cashback = cashbackEarned(app.deps.db, accounts.map((a) => a.id));
  void cashback.catch(() => undefined);
  const pages = await Promise.all(accounts.map((account) => ledger.listTransfers(account.id, { limit: RECENT_ACTIVITY, withBalances: true })));
  const presented = pages.map((page, i) => presentTransactionPage(accounts[i]!, page));
  const recent = presented
    .flatMap((page) => page.data)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1))
    .slice(0, RECENT_ACTIVITY);
  return {
    accounts: accounts.map(presentAccount),
    recentActivity: recent,
    cashbackEarned: await cashback,
    upcomingRecurringPayments: await upcoming,
  };
}

export async function preferencesOf(app: AppContext, userId: string): Promise<{ smsAlerts: boolean }> {
  const row = await app.deps.db('users').where({ id: userId }).first('sms_alerts_enabled');
  if (!row) throw problems.unauthenticated();
  return { smsAlerts: row.sms_alerts_enabled as boolean };
}

export async function setSmsAlerts(app: AppContext, userId: string, smsAlerts: boolean): Promise<void> {
  await app.deps.db('users').where({ id: userId }).update({ sms_alerts_enabled: smsAlerts });
}
