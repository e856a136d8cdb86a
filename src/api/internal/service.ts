import { DEFAULT_STATEMENT_DAY } from '../../banking/statement-cycles';
import { isLedgerError } from '../../ledger/errors';
import { accountIdFrom, transferIdFrom } from '../../ledger/ids';
import type { Account } from '../../ledger/types';
import { workflowIds } from '../../temporal/names';
import type { BankPostingInput } from '../../workflows/banking/contract';
import type { AppContext } from '../core/context';
import { problems, type ProblemError } from '../core/errors';
import { submit, type Submitted } from '../core/money-requests';
import type { BankPostingRow } from './postings/presenters';
import type { PostingBody } from './postings/schema';
import type { OpenAccountBody } from './users/schema';

/** What the bank side does apart from HTTP: open accounts (internal/users/) and post to them (internal/accounts/, internal/postings/). */

/**
 * Opens a savings account or a credit card for a customer. With an Idempotency-Key the
 * account id derives from it, so a repeat opens nothing new even after the key's replay
 * window; the same key for different fields is `idempotency_key_reused`.
 */
export async function openCustomerAccount(app: AppContext, userId: string, idempotencyKey: string | undefined, body: OpenAccountBody): Promise<Account> {
  const user = await app.deps.db('users').where({ id: userId, role: 'customer' }).first('id');
  if (!user) throw problems.userNotFound('userId');
  let account: Account;
  try {
    account = await app.deps.ledger.openAccount({
      ...(idempotencyKey ? { id: accountIdFrom(`account:${userId}:${idempotencyKey}`) } : {}),
      ownerUserId: userId,
      type: body.type,
      currency: body.currency,
      ...(body.type === 'credit_card' ? { creditLimitMinor: BigInt(body.creditLimit ?? '0') } : {}),
    });
  } catch (err) {
    if (isLedgerError(err, 'exists_with_different_fields')) throw problems.idempotencyKeyReused();
    throw err;
  }
  if (account.type === 'credit_card') await storeStatementDay(app, account.id, body.statementDay ?? DEFAULT_STATEMENT_DAY);
  return account;
}

/** A card's statement day (docs/statements.md), set once: a repeat with another day is a reused key. */
async function storeStatementDay(app: AppContext, accountId: string, statementDay: number): Promise<void> {
  await app.deps.db('card_terms').insert({ account_id: accountId, statement_day: statementDay }).onConflict('account_id').ignore();
  const stored = await app.deps.db('card_terms').where({ account_id: accountId }).first('statement_day');
  if (Number(stored?.statement_day) !== statementDay) throw problems.idempotencyKeyReused();
}

/** A customer account (any holder); system accounts are not the bank side's to post to. */
async function customerAccount(app: AppContext, accountId: string): Promise<Account & { ownerUserId: string }> {
  const account = await app.deps.ledger.getAccount(accountId);
  if (!account?.ownerUserId || account.type === 'system') throw problems.accountNotFound('accountId', 'path');
  return account as Account & { ownerUserId: string };
}

export async function postToAccount(app: AppContext, accountId: string, idempotencyKey: string, body: PostingBody): Promise<Submitted<BankPostingRow>> {
  const account = await customerAccount(app, accountId);
  if (account.currency !== body.currency) throw problems.currencyMismatch('currency');

  const workflowId = workflowIds.bankPosting(idempotencyKey);
  const postingId = transferIdFrom(workflowId);
  const row = { account_id: account.id, direction: body.direction, amount_minor: body.amount, currency: body.currency, code: body.code, description: body.description };
  return submit<BankPostingRow>(app, {
    table: 'bank_postings',
    row: { id: postingId, workflow_id: workflowId, ...row },
    sameRequest: (stored) =>
      stored.account_id === row.account_id &&
      stored.direction === row.direction &&
      String(stored.amount_minor) === row.amount_minor &&
      stored.currency === row.currency &&
      stored.code === row.code &&
      stored.description === row.description,
    workflow: {
      workflowType: 'bankPosting',
      input: {
        postingId,
        customerId: account.ownerUserId,
        accountId: account.id,
        direction: body.direction,
        amountMinor: body.amount,
        currency: body.currency,
        code: body.code,
        description: body.description,
      } satisfies BankPostingInput,
      ids: { customerId: account.ownerUserId, accountId: account.id },
    },
  });
}

/** The problem a posting that failed for the account's balance rule answers with. */
export function postingFailureProblem(reason: string | null): ProblemError | undefined {
  if (reason === 'insufficient_funds') return problems.insufficientFunds('amount');
  if (reason === 'exceeds_credit_limit') return problems.exceedsCreditLimit('amount');
  return undefined;
}

export async function findPosting(app: AppContext, id: string): Promise<BankPostingRow> {
  const row = (await app.deps.db('bank_postings').where({ id }).first()) as BankPostingRow | undefined;
  if (!row) throw problems.notFound('No such posting.');
  return row;
}
