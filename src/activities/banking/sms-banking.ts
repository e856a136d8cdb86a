import type { Db } from '../../db/knex';
import { applyConsentKeyword } from '../../campaigns/contacts';
import { transferIdFrom } from '../../ledger/ids';
import type { Account, Ledger } from '../../ledger/types';
import { formatMoney, maskAccount } from '../../money/money';
import type { Notifier } from '../../providers/notifier';
import { businessFailure } from '../../temporal/failures';
import { dedupeKeys, workflowIds } from '../../temporal/names';
import type { StatementInput } from '../../workflows/banking/contract';
import { balanceSentence } from './card-terms';
import { parseSmsCommand, SMS_HELP_TEXT, type SmsCommand } from './sms-commands';
import { lineDescription } from './statements';

/**
 * Banking by SMS (docs/statements.md, "SMS banking"). The webhook stores each inbound
 * message once (`sms_inbound`, unique per provider message id) and starts `smsBanking`
 * for it; these activities answer it. Only a registered customer's verified phone gets
 * account data; an unknown number gets nothing back. Each reply is claimed in the
 * outbox under the inbound message's id, so it is sent once.
 */

export interface InboundSmsRow {
  id: string;
  provider: string;
  provider_message_id: string;
  from_number: string;
  body: string;
  user_id: string | null;
  outcome: string | null;
  received_at: Date;
}

/** What the workflow does with an inbound message: reply with text, make a statement, or nothing. */
export type InboundSmsAction =
  | { kind: 'reply'; outcome: string; userId: string; to: string; body: string }
  | { kind: 'statement'; outcome: 'statement'; statement: StatementInput }
  | { kind: 'none'; outcome: 'unknown_sender' };

export interface ConsentKeywordEvent {
  kind: 'opt_out' | 'opt_in';
  /** The number that texted, E.164. */
  phone: string;
  /** The registered customer with this verified phone, if any. */
  userId: string | null;
  provider: string;
  providerMessageId: string;
  /** When the provider received the keyword: an older change never overrides a newer one. */
  at: Date;
}

/**
 * The one place a STOP / START keyword takes effect, for every number that texts one:
 * a customer's transaction alerts stop or resume, and the campaign contact with this
 * phone changes its SMS consent (so a STOP mid-campaign stops its pending message).
 * Anything else that keys on SMS consent belongs in this function too.
 */
export async function onConsentKeyword(db: Db, event: ConsentKeywordEvent): Promise<void> {
  if (event.userId) await db('users').where({ id: event.userId }).update({ sms_alerts_enabled: event.kind === 'opt_in' });
  await applyConsentKeyword(db, { phone: event.phone, channel: 'sms', kind: event.kind, at: event.at, source: `keyword:${event.provider}:${event.providerMessageId}` });
}

const CONSENT_REPLIES = {
  opt_out: 'finflow: you will no longer receive SMS alerts. Text START to resume.',
  opt_in: 'finflow: SMS alerts are on again. Text STOP to end them, HELP for commands.',
} as const;

/** At most this many accounts in a BAL reply, to keep it one or two SMS long. */
const MAX_BALANCE_ACCOUNTS = 5;

function balancesReply(accounts: Account[]): string {
  if (accounts.length === 0) return 'finflow: you have no accounts yet.';
  const parts = accounts.slice(0, MAX_BALANCE_ACCOUNTS).map((a) => `${a.type.replace('_', ' ')} ${maskAccount(a.id)}: ${balanceSentence(a).replace(/\.$/, '')}`);
  return `finflow balances: ${parts.join('; ')}.`;
}

export function createSmsBankingActivities({ db, ledger, notifier }: { db: Db; ledger: Ledger; notifier: Notifier }) {
  /** The customer whose verified phone this is (a phone is verified by one customer at most). */
  async function customerByPhone(phone: string): Promise<{ id: string } | undefined> {
    return db('users').where({ phone, role: 'customer' }).whereNotNull('phone_verified_at').first('id');
  }

  /** The account LAST and STMT read: the customer's first account (the wallet every customer gets). */
  async function primaryAccount(userId: string): Promise<Account | undefined> {
    return (await ledger.listAccounts(userId))[0];
  }

  async function answer(command: SmsCommand, userId: string): Promise<{ outcome: string; body: string } | undefined> {
    if (command.kind === 'balance') return { outcome: 'balance', body: balancesReply(await ledger.listAccounts(userId)) };
    if (command.kind === 'last') {
      const account = await primaryAccount(userId);
      if (!account) return { outcome: 'last', body: 'finflow: you have no accounts yet.' };
      const slice = await ledger.statementSlice(account.id, { lastN: command.count, asOf: new Date() });
      const lines = slice.lines
        .slice()
        .reverse()
        .map(({ transfer, direction }) => `${transfer.createdAt.toISOString().slice(5, 10)} ${direction === 'debit' ? '-' : '+'}${formatMoney(transfer.amountMinor, transfer.currency)} ${lineDescription(transfer).slice(0, 24)}`);
      return { outcome: 'last', body: `finflow ${maskAccount(account.id)} last ${lines.length}: ${lines.join('; ') || 'no transactions'}.` };
    }
    if (command.kind === 'opt_out' || command.kind === 'opt_in') return { outcome: command.kind, body: CONSENT_REPLIES[command.kind] };
    if (command.kind === 'help') return { outcome: 'help', body: SMS_HELP_TEXT };
    if (command.kind === 'unknown') return { outcome: `unknown:${command.reason}`, body: SMS_HELP_TEXT };
    return undefined;
  }

  return {
    /**
     * Reads the inbound message, applies a consent keyword, and says how to answer it.
     * Idempotent: a retry recomputes the same action (a balance may have moved since,
     * but the reply itself is claimed once, so only one is ever sent).
     */
    async handleInboundSms({ inboundId }: { inboundId: string }): Promise<InboundSmsAction> {
      const row = await db<InboundSmsRow>('sms_inbound').where({ id: inboundId }).first();
      if (!row) throw businessFailure('customer_not_found', `inbound SMS ${inboundId} does not exist`);
      const customer = await customerByPhone(row.from_number);
      const command = parseSmsCommand(row.body);
      if (command.kind === 'opt_out' || command.kind === 'opt_in') {
        await onConsentKeyword(db, { kind: command.kind, phone: row.from_number, userId: customer?.id ?? null, provider: row.provider, providerMessageId: row.provider_message_id, at: row.received_at });
      }
      let action: InboundSmsAction;
      if (!customer) {
        action = { kind: 'none', outcome: 'unknown_sender' };
      } else if (command.kind === 'statement') {
        const account = await primaryAccount(customer.id);
        const workflowId = workflowIds.smsStatement(inboundId);
        action = account
          ? {
              kind: 'statement',
              outcome: 'statement',
              statement: { statementId: transferIdFrom(workflowId), userId: customer.id, accountId: account.id, source: 'sms', period: { lastN: command.count, asOf: row.received_at.toISOString() } },
            }
          : { kind: 'reply', outcome: 'statement:no_account', userId: customer.id, to: row.from_number, body: 'finflow: you have no accounts yet.' };
      } else {
        const reply = (await answer(command, customer.id)) as { outcome: string; body: string };
        action = { kind: 'reply', outcome: reply.outcome, userId: customer.id, to: row.from_number, body: reply.body };
      }
      await db('sms_inbound').where({ id: inboundId }).update({ user_id: customer?.id ?? null, outcome: action.outcome, handled_at: db.fn.now() });
      return action;
    },

    /** Sends the one reply to an inbound message. */
    async sendSmsReply({ inboundId, userId, to, body }: { inboundId: string; userId: string; to: string; body: string }): Promise<{ notificationId: string }> {
      const sent = await notifier.send({ dedupeKey: dedupeKeys.smsReply(inboundId), userId, channel: 'sms', recipient: to, template: 'sms_banking_reply', body });
      return { notificationId: sent.id };
    },
  };
}
