import type { Db } from '../../db/knex';
import type { Account, Ledger, Transfer } from '../../ledger/types';
import { formatMoney, maskAccount } from '../../money/money';
import type { Notifier } from '../../providers/notifier';
import { createOutbox } from '../../providers/outbox';
import { businessFailure } from '../../temporal/failures';
import { balanceSentence } from './card-terms';
import { dedupeKeys } from '../../temporal/names';
import type { SendTransactionAlertResult } from '../../workflows/banking/contract';

export interface SendTransactionAlertInput {
  transferId: string;
  accountId: string;
}

interface Holder {
  id: string;
  name: string;
  phone: string;
  sms_alerts_enabled: boolean;
}

/** What each ledger code reads as in a message; unknown codes read as their words. */
export const CODE_WORDS: Record<string, string> = {
  wallet_funding: 'wallet top-up',
  p2p_transfer: 'transfer',
  bank_deposit: 'deposit',
  salary: 'salary',
  card_purchase: 'card purchase',
  fee: 'fee',
  adjustment: 'adjustment',
  reversal: 'reversal',
};

/** `Grace Hopper` → `Grace H.`: enough for the holder to recognise, little to leak. */
function shortName(name: string): string {
  const [first = '', ...rest] = name.trim().split(/\s+/);
  const last = rest[rest.length - 1];
  return last ? `${first} ${last[0]?.toUpperCase()}.` : first;
}

/** Keeps free text from a caller short and on one line. */
const clip = (text: string, max = 40) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * The SMS body of a transaction alert: amount, what happened, the masked account and
 * the available balance when the alert was composed (normally moments after posting);
 * for a card, the outstanding amount and the credit left.
 */
function composeAlert(input: { transfer: Transfer; account: Account; what: string }): string {
  const { transfer, account, what } = input;
  const credited = transfer.creditAccountId === account.id;
  const amount = formatMoney(transfer.amountMinor, transfer.currency);
  const sentence = /[.!?…]$/.test(what) ? what : `${what}.`;
  return `finflow: ${amount} ${credited ? 'credited to' : 'debited from'} account ${maskAccount(account.id)}, ${sentence} ${balanceSentence(account)}`;
}

export function createAlertActivities({ db, ledger, notifier }: { db: Db; ledger: Ledger; notifier: Notifier }) {
  const outbox = createOutbox(db);

  /** The customer holding the account; undefined for a system account or an erased owner. */
  async function holderOf(account: Account | null): Promise<Holder | undefined> {
    if (!account?.ownerUserId) return undefined;
    return db('users').where({ id: account.ownerUserId }).first('id', 'name', 'phone', 'sms_alerts_enabled');
  }

  /** A human description of the transfer, seen from `accountId`'s side. */
  async function describe(transfer: Transfer, accountId: string): Promise<string> {
    const credited = transfer.creditAccountId === accountId;
    const words = CODE_WORDS[transfer.code] ?? transfer.code.replace(/_/g, ' ');
    const { description, sourceType, note } = transfer.metadata;
    if (transfer.code === 'wallet_funding') {
      return sourceType === 'bank_account' ? `${words} from bank account` : `${words} by card`;
    }
    if (transfer.code === 'p2p_transfer') {
      const other = await holderOf(await ledger.getAccount(credited ? transfer.debitAccountId : transfer.creditAccountId));
      const party = other ? ` ${credited ? 'from' : 'to'} ${shortName(other.name)}` : '';
      return `${words}${party}${typeof note === 'string' && note.trim() ? ` (${clip(note, 30)})` : ''}`;
    }
    return typeof description === 'string' && description.trim() ? `${words}: ${clip(description)}` : words;
  }

  return {
    /**
     * Sends the alert for one side of a posted transfer, once: the outbox claims
     * `alert:<transferId>:<accountId>` before any provider sees the message, so retries,
     * crashes and a second workflow asking for the same alert all end in one SMS.
     * The opt-out is read when the alert is composed; an alert already claimed before
     * the holder opted out is still finished rather than left queued.
     */
    async sendTransactionAlert({ transferId, accountId }: SendTransactionAlertInput): Promise<SendTransactionAlertResult> {
      const dedupeKey = dedupeKeys.transactionAlert(transferId, accountId);
      const [transfer, account] = await Promise.all([ledger.getTransfer(transferId), ledger.getAccount(accountId)]);
      if (!transfer) throw businessFailure('transfer_not_found', `transfer ${transferId} does not exist`);
      if (transfer.debitAccountId !== accountId && transfer.creditAccountId !== accountId) {
        throw businessFailure('account_not_found', `account ${accountId} is not a side of transfer ${transferId}`);
      }
      const holder = await holderOf(account);
      if (!account || !holder) return { status: 'skipped', reason: 'no_holder' };
      if (!holder.sms_alerts_enabled && !(await outbox.findByDedupeKey(dedupeKey))) return { status: 'skipped', reason: 'opted_out' };

      const sent = await notifier.send({
        dedupeKey,
        userId: holder.id,
        channel: 'sms',
        recipient: holder.phone,
        template: 'transaction_alert',
        body: composeAlert({ transfer, account, what: await describe(transfer, accountId) }),
      });
      return { status: 'sent', notificationId: sent.id, fresh: sent.fresh };
    },
  };
}
