import { z } from 'zod';
import { TransactionPageSchema, TransactionsQuery, AccountIdParams as StatementParams } from '../../accounts/schema';
import { listTransactions, presentTransactionPage } from '../../accounts/service';
import type { AppContext } from '../../core/context';
import { problems } from '../../core/errors';
import { idempotencyKeyOf } from '../../core/middleware/idempotency';
import { answer } from '../../core/money-requests';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { RULES, accountCurrencyRule } from '../../core/unstated-rules';
import { presentPosting } from '../postings/presenters';
import { AccountIdParams, PostingBody, PostingSchema } from '../postings/schema';
import { postToAccount, postingFailureProblem } from '../service';
import { postingPath } from '../postings/routes';
import { presentStatementAccount } from './presenters';
import { StatementAccountSchema } from './schema';

/**
 * Customer accounts on the bank side: deposits and debits posted to one (service token
 * only), and any account's statement (the service token or an operator).
 */
export function internalAccountRoutes(app: AppContext): RouteSpec[] {
  const ledger = app.deps.ledger;
  return [
    route({
      method: 'post',
      path: '/internal/v1/accounts/:accountId/postings',
      summary: "Post a deposit or a debit to a customer account; the holder gets an SMS alert. The Idempotency-Key names the posting.",
      tags: ['internal'],
      access: 'service',
      rules: [RULES.postingDirection, accountCurrencyRule('currency'), RULES.availableBalance, RULES.cardCreditLimit],
      idempotency: 'required',
      params: AccountIdParams,
      body: PostingBody,
      responses: {
        201: { description: 'Posted (`status: succeeded`).', schema: PostingSchema },
        200: { description: 'A repeat of a posting made earlier (its Idempotency-Key outlived the replay window).', schema: PostingSchema },
        202: { description: 'Still processing; poll `Location` (a later failure shows there with its reason).', schema: PostingSchema },
        404: { description: '`account_not_found`.', schema: ProblemSchema },
        422: { description: '`insufficient_funds`, `exceeds_credit_limit`, `currency_mismatch` or `idempotency_key_reused`.', schema: ProblemSchema },
      },
      handler: async (ctx, { params, body }) => {
        const submitted = await postToAccount(app, params.accountId, idempotencyKeyOf(ctx), body);
        const problem = submitted.row.status === 'failed' ? postingFailureProblem(submitted.row.failure_reason) : undefined;
        if (problem) throw problem;
        answer(ctx, submitted, presentPosting, postingPath(submitted.row.id));
      },
    }),
    route({
      method: 'get',
      path: '/internal/v1/accounts/:id/statement',
      summary: 'Any account (customer or system) with its totals and its transactions, newest first.',
      tags: ['operator'],
      access: 'internal',
      rules: [RULES.fromBeforeTo],
      params: StatementParams,
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
          account: presentStatementAccount(account, { totals, balances }),
          transactions: presentTransactionPage(account, page),
        };
      },
    }),
  ];
}
