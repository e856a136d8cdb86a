import type { Knex } from 'knex';
import { RULES } from '../core/unstated-rules';
import { createLedger } from '../../ledger/service';
import type { Account, Ledger } from '../../ledger/types';
import type { AppContext } from '../core/context';
import { problems, type FieldError } from '../core/errors';
import { currentUserId } from '../core/middleware/auth';
import { route, type RouteSpec } from '../core/route';
import { upcomingRecurringPayments } from '../recurring-payments/service';
import { presentAccount, presentTransaction } from './presenters';
import {
  AccountIdParams,
  AccountSchema,
  DashboardSchema,
  PreferencesSchema,
  TransactionPageSchema,
  TransactionsQuery,
} from './schema';
import { z } from 'zod';

const RECENT_ACTIVITY = 10;

/**
 * The caller's own account, or 404: another customer's account is indistinguishable from none.
 * The 404 names `field`, a path parameter when it is `id` (or `location` says so), else a body field.
 */
export async function ownAccount(
  ledger: Ledger,
  userId: string,
  accountId: string,
  field = 'id',
  location: FieldError['in'] = field === 'id' ? 'path' : 'body',
): Promise<Account> {
  const account = await ledger.getAccount(accountId);
  if (!account || account.ownerUserId !== userId) throw problems.accountNotFound(field, location);
  return account;
}

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

export function accountRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  const ledger = createLedger(db);
  return [
    route({
      method: 'get',
      path: '/v1/accounts',
      summary: "The caller's accounts with posted, pending and available balances.",
      tags: ['accounts'],
      access: 'customer',
      responses: { 200: { description: 'Accounts, oldest first.', schema: z.object({ data: z.array(AccountSchema) }) } },
      handler: async (ctx) => {
        const accounts = await ledger.listAccounts(currentUserId(ctx.state));
        ctx.body = { data: accounts.map(presentAccount) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/accounts/:id',
      summary: 'One account and its balances.',
      tags: ['accounts'],
      access: 'customer',
      params: AccountIdParams,
      responses: { 200: { description: 'The account.', schema: AccountSchema }, 404: { description: 'No such account of yours.' } },
      handler: async (ctx, { params }) => {
        ctx.body = presentAccount(await ownAccount(ledger, currentUserId(ctx.state), params.id));
      },
    }),
    route({
      method: 'get',
      path: '/v1/accounts/:id/transactions',
      summary: "An account's transactions, newest first, optionally within [from, to).",
      tags: ['accounts'],
      access: 'customer',
      rules: [RULES.fromBeforeTo],
      params: AccountIdParams,
      query: TransactionsQuery,
      responses: { 200: { description: 'One page of transactions.', schema: TransactionPageSchema }, 404: { description: 'No such account of yours.' } },
      handler: async (ctx, { params, query }) => {
        const account = await ownAccount(ledger, currentUserId(ctx.state), params.id);
        const page = await listTransactions(ledger, account.id, query);
        ctx.body = { data: page.data.map((t) => presentTransaction(account.id, t)), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/me/dashboard',
      summary: 'Balances, recent activity, cashback earned and upcoming recurring payments.',
      tags: ['accounts'],
      access: 'customer',
      responses: { 200: { description: 'The dashboard.', schema: DashboardSchema } },
      handler: async (ctx) => {
        const accounts = await ledger.listAccounts(currentUserId(ctx.state));
        const pages = await Promise.all(accounts.map((a) => ledger.listTransfers(a.id, { limit: RECENT_ACTIVITY })));
        const recent = pages
          .flatMap((page, i) => page.data.map((t) => presentTransaction((accounts[i] as Account).id, t)))
          .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1))
          .slice(0, RECENT_ACTIVITY);
        ctx.body = {
          accounts: accounts.map(presentAccount),
          recentActivity: recent,
          cashbackEarned: await cashbackEarned(db, accounts.map((a) => a.id)),
          upcomingRecurringPayments: await upcomingRecurringPayments(app, currentUserId(ctx.state)),
        };
      },
    }),
    route({
      method: 'get',
      path: '/v1/me/preferences',
      summary: "The caller's notification preferences.",
      tags: ['accounts'],
      access: 'customer',
      responses: { 200: { description: 'Preferences.', schema: PreferencesSchema } },
      handler: async (ctx) => {
        const row = await db('users').where({ id: currentUserId(ctx.state) }).first('sms_alerts_enabled');
        if (!row) throw problems.unauthenticated();
        ctx.body = { smsAlerts: row.sms_alerts_enabled as boolean };
      },
    }),
    route({
      method: 'put',
      path: '/v1/me/preferences',
      summary: 'Opt in or out of SMS transaction alerts.',
      tags: ['accounts'],
      access: 'customer',
      body: PreferencesSchema,
      responses: { 200: { description: 'The updated preferences.', schema: PreferencesSchema } },
      handler: async (ctx, { body }) => {
        await db('users').where({ id: currentUserId(ctx.state) }).update({ sms_alerts_enabled: body.smsAlerts });
        ctx.body = { smsAlerts: body.smsAlerts };
      },
    }),
  ];
}

/** Maps the ledger's cursor error to a 400 naming `cursor`. */
export async function listTransactions(ledger: Ledger, accountId: string, query: z.infer<typeof TransactionsQuery>) {
  try {
    return await ledger.listTransfers(accountId, {
      limit: query.limit,
      cursor: query.cursor,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'invalid_cursor') {
      throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
    }
    throw err;
  }
}
