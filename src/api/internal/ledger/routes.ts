import { z } from 'zod';
import { RULES } from '../../core/unstated-rules';
import { createLedger } from '../../../ledger/service';
import { AccountIdParams, TransactionPageSchema, TransactionsQuery } from '../../accounts/schema';
import { listTransactions } from '../../accounts/routes';
import { presentTransaction } from '../../accounts/presenters';
import type { AppContext } from '../../core/context';
import { problems } from '../../core/errors';
import { route, type RouteSpec } from '../../core/route';
import { maskAccount } from '../../../money/money';

/** Operator views of the ledger, for the service token or an operator's token. */

const Minor = z.string().regex(/^-?[0-9]+$/);
const Side = z.object({ debits: Minor, credits: Minor, difference: Minor });

const TrialBalanceSchema = z
  .object({ data: z.array(z.object({ currency: z.string().length(3), posted: Side, pending: Side })) })
  .meta({ id: 'TrialBalance' });

const StatementAccountSchema = z
  .object({
    id: z.uuid(),
    ownerUserId: z.uuid().nullable(),
    systemRole: z.string().nullable(),
    type: z.string(),
    currency: z.string().length(3),
    rule: z.string(),
    maskedNumber: z.string(),
    creditLimit: Minor,
    totals: z.object({ debitsPosted: Minor, debitsPending: Minor, creditsPosted: Minor, creditsPending: Minor }),
    balances: z.object({ posted: Minor, pending: Minor, available: Minor }),
  })
  .meta({ id: 'StatementAccount' });

const side = (s: { debitsMinor: bigint; creditsMinor: bigint; differenceMinor: bigint }) => ({
  debits: s.debitsMinor.toString(),
  credits: s.creditsMinor.toString(),
  difference: s.differenceMinor.toString(),
});

export function operatorLedgerRoutes(app: AppContext): RouteSpec[] {
  const ledger = createLedger(app.deps.db);
  return [
    route({
      method: 'get',
      path: '/internal/v1/ledger/trial-balance',
      summary: 'Per currency: total debits, total credits and their difference (always 0), posted and pending.',
      tags: ['operator'],
      access: 'internal',
      responses: { 200: { description: 'The trial balance.', schema: TrialBalanceSchema } },
      handler: async (ctx) => {
        const rows = await ledger.trialBalance();
        ctx.body = { data: rows.map((r) => ({ currency: r.currency, posted: side(r.posted), pending: side(r.pending) })) };
      },
    }),
    route({
      method: 'get',
      path: '/internal/v1/accounts/:id/statement',
      summary: 'Any account (customer or system) with its totals and its transactions, newest first.',
      tags: ['operator'],
      access: 'internal',
      rules: [RULES.fromBeforeTo],
      params: AccountIdParams,
      query: TransactionsQuery,
      responses: {
        200: {
          description: 'The statement.',
          schema: z.object({ account: StatementAccountSchema, transactions: TransactionPageSchema }),
        },
        404: { description: 'No such account.' },
      },
      handler: async (ctx, { params, query }) => {
        const account = await ledger.getAccount(params.id);
        if (!account) throw problems.accountNotFound('id', 'path');
        const { totals, balances } = account.rule === 'none' ? await ledger.systemAccountBalance(account.id) : account;
        const page = await listTransactions(ledger, account.id, query);
        ctx.body = {
          account: {
            id: account.id,
            ownerUserId: account.ownerUserId,
            systemRole: account.systemRole,
            type: account.type,
            currency: account.currency,
            rule: account.rule,
            maskedNumber: maskAccount(account.id),
            creditLimit: account.creditLimitMinor.toString(),
            totals: {
              debitsPosted: totals.debitsPostedMinor.toString(),
              debitsPending: totals.debitsPendingMinor.toString(),
              creditsPosted: totals.creditsPostedMinor.toString(),
              creditsPending: totals.creditsPendingMinor.toString(),
            },
            balances: {
              posted: balances.postedMinor.toString(),
              pending: balances.pendingMinor.toString(),
              available: balances.availableMinor.toString(),
            },
          },
          transactions: { data: page.data.map((t) => presentTransaction(account.id, t)), nextCursor: page.nextCursor },
        };
      },
    }),
  ];
}
