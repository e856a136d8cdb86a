import { isLedgerError } from '../../ledger/errors';
import { transferIdFrom } from '../../ledger/ids';
import { findCashbackAccount } from '../../payments/cashback-accounts';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import type { RedeemBody } from './schema';

/**
 * Moving cashback to the wallet (docs/wallet.md, "Cashback"). One posted transfer
 * between two accounts of the caller's, nothing to orchestrate and nobody else to tell,
 * so the API makes it directly in the ledger, in one statement: the ledger's balance
 * check refuses more than is available, and the transfer id derives from the
 * Idempotency-Key, so a repeat applies nothing twice.
 */
export async function redeemCashback(app: AppContext, userId: string, idempotencyKey: string, body: RedeemBody) {
  const { ledger } = app.deps;
  const wallets = (await ledger.listAccounts(userId)).filter((a) => a.type === 'wallet');
  const wallet = body.currency ? wallets.find((a) => a.currency === body.currency) : wallets[0];
  if (!wallet) throw problems.field('body', 'currency', 'no_wallet', `You have no wallet in ${body.currency ?? 'any currency'}.`);
  const cashback = await findCashbackAccount(ledger, userId, wallet.currency);
  if (!cashback) throw problems.insufficientCashback();
  const amountMinor = BigInt(body.amount);
  const transferId = transferIdFrom(`cashback-redeem:${userId}:${idempotencyKey}`);
  try {
    await ledger.createTransfer({
      id: transferId,
      debitAccountId: cashback.id,
      creditAccountId: wallet.id,
      amountMinor,
      currency: wallet.currency,
      code: 'cashback_redemption',
      metadata: { description: 'Cashback redeemed to the wallet' },
    });
  } catch (err) {
    if (isLedgerError(err, 'insufficient_funds')) throw problems.insufficientCashback();
    if (isLedgerError(err, 'exists_with_different_fields')) throw problems.idempotencyKeyReused();
    throw err;
  }
  const [after, walletAfter] = await Promise.all([ledger.getAccount(cashback.id), ledger.getAccount(wallet.id)]);
  return {
    transferId,
    amount: amountMinor.toString(),
    currency: wallet.currency,
    cashbackAccountId: cashback.id,
    walletAccountId: wallet.id,
    cashbackAvailable: (after?.balances.availableMinor ?? 0n).toString(),
    walletAvailable: (walletAfter?.balances.availableMinor ?? 0n).toString(),
  };
}
