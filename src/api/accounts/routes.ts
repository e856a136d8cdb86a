import { RULES } from '../core/unstated-rules';
import type { AppContext } from '../core/context';
import { currentUserId } from '../core/middleware/auth';
import { ownAccount } from '../core/own-account';
import { route, type RouteSpec } from '../core/route';
import { presentAccount } from './presenters';
import { AccountIdParams, AccountSchema, TransactionPageSchema, TransactionsQuery } from './schema';
import { listTransactions, presentTransactionPage } from './service';
import { z } from 'zod';

/** The caller's accounts and their transactions (paying a card's bill is in accounts/payments/). */
export function accountRoutes(app: AppContext): RouteSpec[] {
  const ledger = app.deps.ledger;
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
        // The page is read while ownership is checked (one round trip less to wait for);
        // nothing of it is answered unless the account is the caller's, and a refusal wins
        // over the page's own error (a bad cursor on someone else's account is still 404).
        const reading = listTransactions(ledger, params.id, query);
        void reading.catch(() => undefined);
        const account = await ownAccount(ledger, currentUserId(ctx.state), params.id);
        ctx.body = presentTransactionPage(account, await reading);
      },
    }),
  ];
}
