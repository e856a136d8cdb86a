import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../db/knex';
import { isUuid } from '../../ledger/ids';
import { toAccount, toTransfer, type AccountRow, type TransferRow } from '../../ledger/rows';
import type { Account, Ledger, Transfer } from '../../ledger/types';
import { formatMoney, maskAccount } from '../../money/money';
import type { Notifier, OutboundMessage } from '../../providers/notifier';
import { createOutbox } from '../../providers/outbox';
import { businessFailure } from '../../temporal/failures';
import { balanceSentence } from './card-terms';
import { dedupeKeys } from '../../temporal/names';
import type { AlertOutcome, SendTransactionAlertResult } from '../../workflows/banking/contract';

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

/** One alert's transfer, account, holder and whether its message was claimed before, as one read finds them. */
interface AlertFacts {
  transfer: Transfer | null;
  account: Account | null;
  holder: Holder | undefined;
  claimedBefore: boolean;
}

/**
 * What each alert needs, in one query: the transfer, the account (with its stored
 * totals: an alert's account is a customer's, never a system account, whose totals are
 * summed), its holder and an earlier claim of the alert's message.
 */
async function readAlertFacts(db: Db, alerts: readonly SendTransactionAlertInput[]): Promise<AlertFacts[]> {
  const valid = alerts.filter((a) => isUuid(a.transferId) && isUuid(a.accountId));
  if (valid.length === 0) return alerts.map(() => ({ transfer: null, account: null, holder: undefined, claimedBefore: false }));
  const { rows } = await db.raw<{ rows: Array<Record<string, unknown>> }>(
    `select w.transfer_id as wanted_transfer, w.account_id as wanted_account,
            t.id as t_id, t.kind as t_kind, t.debit_account_id as t_debit_account_id, t.credit_account_id as t_credit_account_id,
            t.amount_minor as t_amount_minor, t.currency as t_currency, t.code as t_code, t.pending_id as t_pending_id,
            t.timeout_at as t_timeout_at, t.metadata as t_metadata, t.created_at as t_created_at,
            a.id as a_id, a.owner_user_id as a_owner_user_id, a.system_role as a_system_role, a.type as a_type, a.currency as a_currency,
            a.rule as a_rule, a.credit_limit_minor as a_credit_limit_minor, a.debits_posted as a_debits_posted,
            a.debits_pending as a_debits_pending, a.credits_posted as a_credits_posted, a.credits_pending as a_credits_pending,
            a.created_at as a_created_at,
            u.id as u_id, u.name as u_name, u.phone as u_phone, u.sms_alerts_enabled as u_sms_alerts_enabled,
            n.id is not null as claimed_before
       from unnest(?::uuid[], ?::uuid[]) as w (transfer_id, account_id)
       left join ledger_transfers t on t.id = w.transfer_id
       left join ledger_accounts a on a.id = w.account_id
       left join users u on u.id = a.owner_user_id
       left join notifications n on n.dedupe_key = 'alert:' || w.transfer_id || ':' || w.account_id`,
    [valid.map((a) => a.transferId), valid.map((a) => a.accountId)],
  );
  const prefixed = (row: Record<string, unknown>, prefix: string) =>
    Object.fromEntries(Object.entries(row).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value]));
  const byAlert = new Map(rows.map((row) => [`${String(row.wanted_transfer)}:${String(row.wanted_account)}`, row]));
  return alerts.map(({ transferId, accountId }) => {
    const row = byAlert.get(`${transferId}:${accountId}`);
    if (!row) return { transfer: null, account: null, holder: undefined, claimedBefore: false };
    const account = row.a_id ? toAccount(prefixed(row, 'a_') as unknown as AccountRow) : null;
    return {
      transfer: row.t_id ? toTransfer(prefixed(row, 't_') as unknown as TransferRow) : null,
      account: account?.rule === 'none' ? null : account,
      holder: row.u_id ? (prefixed(row, 'u_') as unknown as Holder) : undefined,
      claimedBefore: row.claimed_before === true,
    };
  });
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

  /** The alert's message, or why none goes out; a transfer that is not the account's is refused. */
  async function alertMessage({ transferId, accountId }: SendTransactionAlertInput, facts: AlertFacts): Promise<OutboundMessage | SendTransactionAlertResult> {
    const { transfer, account, holder, claimedBefore } = facts;
    if (!transfer) throw businessFailure('transfer_not_found', `transfer ${transferId} does not exist`);
    if (transfer.debitAccountId !== accountId && transfer.creditAccountId !== accountId) {
      throw businessFailure('account_not_found', `account ${accountId} is not a side of transfer ${transferId}`);
    }
    if (!account || !holder) return { status: 'skipped', reason: 'no_holder' };
    if (!holder.sms_alerts_enabled && !claimedBefore) return { status: 'skipped', reason: 'opted_out' };
    return {
      dedupeKey: dedupeKeys.transactionAlert(transferId, accountId),
      userId: holder.id,
      channel: 'sms',
      recipient: holder.phone,
      template: 'transaction_alert',
      body: composeAlert({ transfer, account, what: await describe(transfer, accountId) }),
    };
  }

  return {
    /**
     * Several alerts at once, each as `sendTransactionAlert` sends it (once per transfer
     * and account, the opt-out read when composed), with one read for all of them and
     * one outbox write to claim their messages. An alert refused for good (no such
     * transfer, not the account's, the provider's final refusal) is answered `failed`
     * with its reason, recorded in the outbox when it had a message; a provider failure
     * worth retrying is thrown once the others are sent.
     */
    async sendTransactionAlerts(alerts: readonly SendTransactionAlertInput[]): Promise<AlertOutcome[]> {
      const facts = await readAlertFacts(db, alerts);
      const composed = await Promise.all(
        alerts.map((alert, i) =>
          alertMessage(alert, facts[i] as AlertFacts).catch((err: unknown) => {
            if (!(err instanceof ApplicationFailure && err.nonRetryable)) throw err;
            return { status: 'failed' as const, reason: `${err.type ?? 'failed'}: ${err.message}` };
          }),
        ),
      );
      const messages = composed.filter((c): c is OutboundMessage => 'dedupeKey' in c);
      const sent = await notifier.sendMany(messages);
      const outcomeOf = new Map(messages.map((m, i) => [m.dedupeKey, sent[i]]));
      // Refused before any message went out: the outbox records the reason under the alert's key.
      const refused = alerts.flatMap((alert, i) => {
        const c = composed[i];
        return c && 'status' in c && c.status === 'failed' ? [{ key: dedupeKeys.transactionAlert(alert.transferId, alert.accountId), reason: c.reason }] : [];
      });
      await Promise.all(refused.map(({ key, reason }) => notifier.recordFailure(key, reason)));
      return composed.map((c): AlertOutcome => {
        if (!('dedupeKey' in c)) return c;
        const result = outcomeOf.get(c.dedupeKey);
        if (!result || 'failed' in result) return { status: 'failed', reason: result?.failed ?? 'not sent' };
        return { status: 'sent', notificationId: result.id, fresh: result.fresh };
      });
    },

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
