import { transferIdFrom } from '../../ledger/ids';
import { workflowIds } from '../../temporal/names';
import type { WalletFundingInput } from '../../workflows/wallet/contract';
import { ownAccount } from '../core/own-account';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import type { FundingRow } from './presenters';
import { checkPerTransactionLimit, submit, type Submitted } from '../core/money-requests';
import type { FundBody } from './schema';

/**
 * Funds the caller's wallet. Everything that can be known up front is checked before
 * any workflow starts: the account is the caller's, a wallet, in the request's currency.
 */
export async function fundWallet(app: AppContext, customerId: string, idempotencyKey: string, body: FundBody): Promise<Submitted<FundingRow>> {
  const account = await ownAccount(app.deps.ledger, customerId, body.accountId, 'accountId');
  if (account.type !== 'wallet') throw problems.field('body', 'accountId', 'not_a_wallet', 'Only a wallet can be funded.');
  if (account.currency !== body.currency) throw problems.currencyMismatch('currency');
  checkPerTransactionLimit(app, 'funding', body.currency, BigInt(body.amount));

  const workflowId = workflowIds.walletFunding(customerId, idempotencyKey);
  const fundingId = transferIdFrom(workflowId);
  return submit<FundingRow>(app, {
    table: 'wallet_fundings',
    row: {
      id: fundingId,
      workflow_id: workflowId,
      user_id: customerId,
      account_id: account.id,
      amount_minor: body.amount,
      currency: body.currency,
      source_type: body.source.type,
    },
    sameRequest: (row) =>
      row.account_id === account.id && String(row.amount_minor) === body.amount && row.currency === body.currency && row.source_type === body.source.type,
    limit: { userId: customerId, kind: 'funding', currency: body.currency, amountMinor: BigInt(body.amount) },
    workflow: {
      workflowType: 'walletFunding',
      input: { fundingId, customerId, accountId: account.id, amountMinor: body.amount, currency: body.currency, source: body.source } satisfies WalletFundingInput,
      ids: { customerId, accountId: account.id },
    },
  });
}

/** The caller's own funding; anyone else's is indistinguishable from none. */
export async function findFunding(app: AppContext, customerId: string, id: string): Promise<FundingRow> {
  const row = (await app.deps.db('wallet_fundings').where({ id, user_id: customerId }).first()) as FundingRow | undefined;
  if (!row) throw problems.notFound('No such funding.');
  return row;
}
