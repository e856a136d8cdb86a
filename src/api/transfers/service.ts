import { transferIdFrom } from '../../ledger/ids';
import type { Account, Ledger } from '../../ledger/types';
import { workflowIds } from '../../temporal/names';
import type { CustomerTransferInput } from '../../workflows/wallet/contract';
import { ownAccount } from '../core/own-account';
import type { AppContext } from '../core/context';
import { problems, type ProblemError } from '../core/errors';
import { rateLimit } from '../core/rate-limit';
import { maskEmail, maskName, maskPhone } from '../core/masking';
import { assertFunded, checkPerTransactionLimit, submit, type Submitted } from '../core/money-requests';
import type { CustomerTransferRow } from './presenters';
import type { TransferBody } from './schema';

/** Accounts money may be sent from: the customer's own money, not a card's credit. */
const SENDING_TYPES = new Set(['wallet', 'savings']);

type Recipient = TransferBody['to'];

/** The masked name and contact the sender is shown, so they see whom the money reaches. */
export interface RecipientDisplay {
  name: string;
  contact: string;
}

/**
 * The customer the sender named, and their wallet in `currency`. Only a verified email
 * or phone names anyone (a phone is verified by one customer at most); an unknown
 * contact, an unverified one and one without a wallet in the currency all get the same
 * 422, so the answer does not tell which. Each lookup counts against the lookup limits
 * of the client address and of the contact looked up.
 */
async function resolveRecipient(
  app: AppContext,
  ledger: Ledger,
  to: Recipient,
  currency: string,
  address: string,
): Promise<{ userId: string; wallet: Account; display: RecipientDisplay }> {
  const field = to.email !== undefined ? 'to.email' : 'to.phone';
  await rateLimit(app, 'lookup', address, `recipient:${to.email ?? to.phone}`);
  const user: { id: string; name: string } | undefined = await app.deps
    .db('users')
    .where(to.email !== undefined ? { email: to.email } : { phone: to.phone })
    .whereNotNull(to.email !== undefined ? 'email_verified_at' : 'phone_verified_at')
    .andWhere({ role: 'customer' })
    .first('id', 'name');
  if (!user) throw problems.recipientNotVerified(field);
  const wallet = (await ledger.listAccounts(user.id)).find((a) => a.type === 'wallet' && a.currency === currency);
  if (!wallet) throw problems.recipientNotVerified(field);
  const contact = to.email !== undefined ? maskEmail(to.email) : maskPhone(to.phone as string);
  return { userId: user.id, wallet, display: { name: maskName(user.name), contact } };
}

/**
 * Sends money to another customer. The checks a client can act on come first and
 * synchronously, balance included; the ledger enforces the balance again when it posts.
 */
export async function sendTransfer(
  app: AppContext,
  customerId: string,
  idempotencyKey: string,
  body: TransferBody,
  address: string,
): Promise<Submitted<CustomerTransferRow>> {
  const ledger = app.deps.ledger;
  const from = await ownAccount(ledger, customerId, body.fromAccountId, 'fromAccountId');
  if (!SENDING_TYPES.has(from.type)) throw problems.field('body', 'fromAccountId', 'not_transferable', 'Money can be sent only from a wallet or a savings account.');
  if (body.currency !== undefined && body.currency !== from.currency) throw problems.currencyMismatch('currency');
  const currency = from.currency;
  checkPerTransactionLimit(app, 'transfer', currency, BigInt(body.amount));
  const workflowId = workflowIds.customerTransfer(customerId, idempotencyKey);
  const transferId = transferIdFrom(workflowId);
  // A repeat of a transfer already made is answered from its record, not refused for
  // the balance it has itself spent. The balance is checked before the recipient is
  // looked up, so an empty wallet cannot probe which contacts are customers.
  await assertFunded(from, BigInt(body.amount), async () => (await app.deps.db('customer_transfers').where({ id: transferId }).first('id')) !== undefined);
  const recipient = await resolveRecipient(app, ledger, body.to, currency, address);
  if (recipient.userId === customerId) throw problems.field('body', 'to', 'self_transfer', 'You cannot send money to yourself.');
  const to = body.to.email !== undefined ? { email: body.to.email } : { phone: body.to.phone as string };
  const note = body.note ?? null;
  return submit<CustomerTransferRow>(app, {
    table: 'customer_transfers',
    row: {
      id: transferId,
      workflow_id: workflowId,
      user_id: customerId,
      from_account_id: from.id,
      to_account_id: recipient.wallet.id,
      to_user_id: recipient.userId,
      recipient: JSON.stringify(to),
      recipient_display: JSON.stringify(recipient.display),
      amount_minor: body.amount,
      currency,
      note,
    },
    sameRequest: (row) =>
      row.from_account_id === from.id &&
      row.to_account_id === recipient.wallet.id &&
      String(row.amount_minor) === body.amount &&
      row.currency === currency &&
      row.note === note,
    limit: { userId: customerId, kind: 'transfer', currency, amountMinor: BigInt(body.amount) },
    workflow: {
      workflowType: 'customerTransfer',
      input: {
        transferId,
        customerId,
        fromAccountId: from.id,
        toAccountId: recipient.wallet.id,
        toCustomerId: recipient.userId,
        recipient: to,
        amountMinor: body.amount,
        currency,
        note,
      } satisfies CustomerTransferInput,
      ids: { customerId, accountId: from.id },
    },
  });
}

/**
 * The problem a failed transfer answers with when its reason is one the client can act
 * on (a balance spent by a concurrent transfer, most likely); undefined otherwise.
 */
export function failureProblem(reason: string | null): ProblemError | undefined {
  if (reason === 'insufficient_funds') return problems.insufficientFunds('amount');
  if (reason === 'currency_mismatch') return problems.currencyMismatch('currency');
  if (reason === 'account_not_found') return problems.accountNotFound('fromAccountId');
  return undefined;
}

/** The caller's own transfer (as sender); anyone else's is indistinguishable from none. */
export async function findTransfer(app: AppContext, customerId: string, id: string): Promise<CustomerTransferRow> {
  const row = (await app.deps.db('customer_transfers').where({ id, user_id: customerId }).first()) as CustomerTransferRow | undefined;
  if (!row) throw problems.notFound('No such transfer.');
  return row;
}
