import type { Db } from '../../db/knex';
import type { Ledger, StatementRange, Transfer } from '../../ledger/types';
import { maskAccount } from '../../money/money';
import type { Notifier } from '../../providers/notifier';
import { userObjectKey, type ObjectStorage } from '../../providers/storage/port';
import { transferIdFrom } from '../../ledger/ids';
import { businessFailure } from '../../temporal/failures';
import { workflowIds } from '../../temporal/names';
import { lastDayOf } from '../../banking/statement-cycles';
import { newStatementRow, type StatementRow } from '../../banking/statement-rows';
import type { StatementInput, StatementPeriod } from '../../workflows/banking/contract';
import { CODE_WORDS } from './alerts';
import { cardDueLines, cardDues, cardTermsOf } from './card-terms';
import { renderStatementPdf, STATEMENT_PASSWORD_HINT, statementPassword, type StatementDocument } from './statement-pdf';

/**
 * The side effects of a statement (docs/statements.md): its row, the PDF rendered from
 * the ledger, encrypted and stored under the holder's prefix, the SMS with the link,
 * and the outcome. Every step is keyed by the statement id (derived from the workflow
 * id), so a retried step rewrites the same object and sends no second SMS.
 */

export const DEFAULT_STATEMENT_LINK_TTL_SECONDS = 3600;

export function statementRange(period: StatementPeriod): StatementRange {
  return 'lastN' in period ? { lastN: period.lastN, asOf: new Date(period.asOf) } : { from: new Date(period.from), to: new Date(period.to) };
}

/** How a line reads on the statement: the description the transfer was posted with, or what its code means. */
export function lineDescription(transfer: Transfer): string {
  const { description } = transfer.metadata;
  if (typeof description === 'string' && description.trim()) return description.replace(/\s+/g, ' ').trim();
  return CODE_WORDS[transfer.code] ?? transfer.code.replace(/_/g, ' ');
}

const ACCOUNT_LABELS: Record<string, string> = { wallet: 'Wallet', savings: 'Savings account', credit_card: 'Credit card', cashback: 'Cashback' };

const day = (date: Date) => date.toISOString().slice(0, 10);

export interface StatementActivityDeps {
  db: Db;
  ledger: Ledger;
  notifier: Notifier;
  storage?: ObjectStorage;
  statementLinkTtlSeconds?: number;
}

export function createStatementActivities({ db, ledger, notifier, storage, statementLinkTtlSeconds = DEFAULT_STATEMENT_LINK_TTL_SECONDS }: StatementActivityDeps) {
  const table = () => db<StatementRow>('statements');

  async function load(statementId: string): Promise<StatementRow & { holder: { name: string; phone: string; date_of_birth: string } }> {
    // One round trip: the row and its holder (an erased holder leaves user_id null, and no statement).
    const found: (StatementRow & { holder_name: string; holder_phone: string; holder_date_of_birth: string }) | undefined = await db('statements as s')
      .join('users as u', 'u.id', 's.user_id')
      .where('s.id', statementId)
      .first('s.*', 'u.name as holder_name', 'u.phone as holder_phone', db.raw(`to_char(u.date_of_birth, 'YYYY-MM-DD') as holder_date_of_birth`));
    if (!found) throw businessFailure('statement_not_found', `statement ${statementId} or its holder does not exist`);
    const { holder_name: name, holder_phone: phone, holder_date_of_birth: date_of_birth, ...row } = found;
    return { ...row, holder: { name, phone, date_of_birth } };
  }

  function requireStorage(): ObjectStorage {
    if (!storage) throw new Error('no object storage port was given to the statement activities');
    return storage;
  }

  const steps = {
    /** Inserts the statement's row unless it exists (the API inserts it first; a monthly or SMS statement here). */
    async openStatement(input: StatementInput & { workflowId: string }): Promise<void> {
      await table().insert(newStatementRow(input)).onConflict().ignore();
    },

    /**
     * Gathers the lines from the ledger, renders and encrypts the PDF with the holder's
     * password and stores it under the holder's prefix; records the period and totals.
     * Storage down: this throws and Temporal retries it (the same key is rewritten).
     */
    async renderStatement({ statementId, period }: { statementId: string; period: StatementPeriod }): Promise<{ objectKey: string; lineCount: number }> {
      const row = await load(statementId);
      const account = await ledger.getAccount(row.account_id);
      if (!account) throw businessFailure('account_not_found', `account ${row.account_id} does not exist`);
      const slice = await ledger.statementSlice(account.id, statementRange(period));
      let debits = 0n;
      let credits = 0n;
      const lines = slice.lines.map(({ transfer, direction, balanceAfterMinor }) => {
        if (direction === 'debit') debits += transfer.amountMinor;
        else credits += transfer.amountMinor;
        return {
          postedAt: transfer.createdAt,
          description: lineDescription(transfer),
          debitMinor: direction === 'debit' ? transfer.amountMinor : 0n,
          creditMinor: direction === 'credit' ? transfer.amountMinor : 0n,
          balanceAfterMinor,
        };
      });
      // A period ends before its `to`: the statement is dated, and a card's dues are worked out, on the last day it covers.
      const lastCovered = new Date(slice.periodTo.getTime() - 1);
      const notes =
        account.type === 'credit_card' ? cardDueLines(cardDues(await cardTermsOf(db, account.id), slice.closingBalanceMinor, lastCovered), account.currency) : undefined;
      const document: StatementDocument = {
        holderName: row.holder.name,
        accountLabel: ACCOUNT_LABELS[account.type] ?? account.type,
        maskedAccountNumber: maskAccount(account.id),
        currency: account.currency,
        periodFrom: slice.periodFrom,
        periodTo: lastCovered,
        openingBalanceMinor: slice.openingBalanceMinor,
        closingBalanceMinor: slice.closingBalanceMinor,
        lines,
        generatedAt: new Date(),
        notes,
      };
      const pdf = await renderStatementPdf(document, statementPassword(row.holder.date_of_birth));
      const objectKey = userObjectKey(row.user_id as string, 'statements', `${statementId}.pdf`);
      await requireStorage().put({ key: objectKey, body: pdf, contentType: 'application/pdf', metadata: { 'statement-id': statementId } });
      await table()
        .where({ id: statementId })
        .update({
          object_key: objectKey,
          currency: account.currency,
          period_from: slice.periodFrom,
          period_to: slice.periodTo,
          opening_balance_minor: slice.openingBalanceMinor.toString(),
          closing_balance_minor: slice.closingBalanceMinor.toString(),
          debits_minor: debits.toString(),
          credits_minor: credits.toString(),
          line_count: lines.length,
          updated_at: db.fn.now(),
        });
      return { objectKey, lineCount: lines.length };
    },

    /** Sends the one SMS with a fresh presigned link and the password hint (claimed under `dedupeKey`). */
    async sendStatementLink({ statementId, dedupeKey }: { statementId: string; dedupeKey: string }): Promise<{ notificationId: string }> {
      const row = await load(statementId);
      if (!row.object_key || !row.period_from || !row.period_to) throw new Error(`statement ${statementId} has not been stored yet`);
      const [from, to] = [day(row.period_from), lastDayOf(row.period_to)];
      const url = await requireStorage().presignGet(row.object_key, statementLinkTtlSeconds, { downloadName: `statement-${from}-${to}.pdf` });
      const minutes = Math.round(statementLinkTtlSeconds / 60);
      const sent = await notifier.send({
        dedupeKey,
        userId: row.user_id,
        channel: 'sms',
        recipient: row.holder.phone,
        template: 'statement_link',
        body: `finflow: your statement of account ${maskAccount(row.account_id)} for ${from} to ${to}: ${url} (link valid ${minutes} min). ${STATEMENT_PASSWORD_HINT}`,
      });
      return { notificationId: sent.id };
    },

    /** Ends the statement `ready` or `failed` (with the reason); a finished statement keeps its outcome. */
    async recordStatementOutcome({ statementId, outcome }: { statementId: string; outcome: { status: 'ready' } | { status: 'failed'; reason: string } }): Promise<void> {
      await table()
        .where({ id: statementId, status: 'processing' })
        .update({ status: outcome.status, failure_reason: outcome.status === 'failed' ? outcome.reason : null, updated_at: db.fn.now() });
    },

    /** Tells the holder their statement could not be made (once, under `dedupeKey`). */
    async sendStatementFailureNotice({ statementId, dedupeKey }: { statementId: string; dedupeKey: string }): Promise<{ notificationId: string }> {
      const row = await load(statementId);
      const sent = await notifier.send({
        dedupeKey,
        userId: row.user_id,
        channel: 'sms',
        recipient: row.holder.phone,
        template: 'statement_failed',
        body: `finflow: we could not prepare your statement of account ${maskAccount(row.account_id)}. Please try again later; no data was shared.`,
      });
      return { notificationId: sent.id };
    },

  };

  return {
    ...steps,

    /**
     * Opens the row and renders, encrypts and stores the PDF: the first of a statement's
     * two steps since statement workflows take two (patch `statement-in-two-steps`).
     */
    async prepareStatement(input: StatementInput & { workflowId: string }): Promise<{ objectKey: string; lineCount: number }> {
      await steps.openStatement(input);
      return steps.renderStatement({ statementId: input.statementId, period: input.period });
    },

    /** Texts the link (once, under `dedupeKey`) and ends the statement `ready`: the second step. */
    async deliverStatement({ statementId, dedupeKey }: { statementId: string; dedupeKey: string }): Promise<{ notificationId: string }> {
      const sent = await steps.sendStatementLink({ statementId, dedupeKey });
      await steps.recordStatementOutcome({ statementId, outcome: { status: 'ready' } });
      return sent;
    },

    /** Customer accounts with posted activity in [from, to), after `afterAccountId` by id: one page of a monthly run. */
    async listStatementAccounts({ month, afterAccountId, limit }: { month: string; afterAccountId?: string; limit: number }) {
      const { from, to } = monthBounds(month);
      const rows: Array<{ id: string; owner_user_id: string }> = await activeAccounts(db, from, to)
        .modify((q) => {
          if (afterAccountId) q.where('a.id', '>', afterAccountId);
        })
        .orderBy('a.id')
        .limit(limit)
        .select('a.id', 'a.owner_user_id');
      // The statement id is derived from the (account, month) workflow id, as every id is.
      return rows.map((r) => ({ accountId: r.id, userId: r.owner_user_id, statementId: transferIdFrom(workflowIds.monthlyStatement(r.id, month)) }));
    },

    /** How many accounts a monthly run will make statements for. */
    async countStatementAccounts({ month }: { month: string }): Promise<number> {
      const { from, to } = monthBounds(month);
      const [row] = await activeAccounts(db, from, to).count<Array<{ count: string }>>({ count: '*' });
      return Number(row?.count ?? 0);
    },
  };
}

/** Customer accounts (with a holder) that have a posted transfer in [from, to). */
function activeAccounts(db: Db, from: string, to: string) {
  const moved = (column: 'debit_account_id' | 'credit_account_id') =>
    db('ledger_transfers as t')
      .select(db.raw('1'))
      .whereRaw(`t.${column} = a.id`)
      .whereIn('t.kind', ['posted', 'post_pending'])
      .where('t.created_at', '>=', from)
      .andWhere('t.created_at', '<', to);
  return db('ledger_accounts as a')
    .whereNotNull('a.owner_user_id')
    .where((q) => q.whereExists(moved('debit_account_id')).orWhereExists(moved('credit_account_id')));
}

/** The first instant of `YYYY-MM` and of the month after, in UTC. */
export function monthBounds(month: string): { from: string; to: string } {
  const [year, monthIndex] = month.split('-').map(Number) as [number, number];
  return { from: new Date(Date.UTC(year, monthIndex - 1, 1)).toISOString(), to: new Date(Date.UTC(year, monthIndex, 1)).toISOString() };
}
