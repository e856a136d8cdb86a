import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex';
import { deleteInvoiceSchedule } from '../../invoices/schedule';
import { userPrefix, type ObjectStorage } from '../../providers/storage/port';
import { scheduleIds } from '../../temporal/names';
import type { ErasureStep, ErasureStepResult } from '../../workflows/platform/contract';

/**
 * Erasing a customer (DELETE /v1/me): each step of ERASURE_STEPS is one function here,
 * idempotent (a second run finds nothing and says 0), so a crashed erasure resumes by
 * running the steps again. What to search for once the user's row is gone (id, email,
 * phone, name) waits in `erasures`, written by the API, deleted by the last step.
 * Ledger history stays (balances must still add up) with no owner and scrubbed metadata.
 */

export interface ErasureDeps {
  db: Db;
  temporal?: Client;
  storage?: ObjectStorage;
  now: () => Date;
}

interface Subject {
  userId: string;
  email: string;
  phone: string;
  name: string;
}

/** Tables the sweep leaves: the ledger (anonymised by its own step), migrations, and the erasure's own row. */
const SWEEP_SKIPS = new Set(['ledger_transfers', 'ledger_pending_resolutions', 'ledger_accounts', 'knex_migrations', 'knex_migrations_lock', 'erasures']);

/** Column types the sweep searches. */
const SEARCHED_TYPES = new Set(['uuid', 'text', 'character varying', 'character', 'jsonb', 'json', 'USER-DEFINED']);

const TIMEOUT_MS = 10_000;

/** Rows of `table` whose any searched column mentions the subject (uuid columns equal to the id). */
function mentions(columns: Array<{ column_name: string; data_type: string }>, subject: Subject): { sql: string; bindings: string[] } {
  const terms = [subject.userId, subject.email, subject.phone];
  const parts: string[] = [];
  const bindings: string[] = [];
  for (const { column_name: column, data_type: type } of columns) {
    if (type === 'uuid') {
      parts.push('?? = ?::uuid');
      bindings.push(column, subject.userId);
      continue;
    }
    for (const term of terms) {
      parts.push('strpos(lower(??::text), lower(?)) > 0');
      bindings.push(column, term);
    }
  }
  return { sql: parts.join(' or '), bindings };
}

export function createErasureActivities(deps: ErasureDeps) {
  const { db } = deps;

  async function subjectOf(userId: string): Promise<Subject | undefined> {
    const row: { email: string; phone: string; name: string } | undefined = await db('erasures').where({ user_id: userId }).first('email', 'phone', 'name');
    return row && { userId, ...row };
  }

  const steps: Record<ErasureStep, (subject: Subject) => Promise<Record<string, number>>> = {
    async schedules({ userId }) {
      const { temporal } = deps;
      if (!temporal) throw new Error('erasure needs a Temporal client to delete Schedules');
      const recurring = (await db('recurring_payments').where({ user_id: userId }).pluck('id')) as string[];
      let deleted = (await deleteInvoiceSchedule(temporal, TIMEOUT_MS, userId)) ? 1 : 0;
      for (const id of recurring) {
        try {
          await temporal.schedule.getHandle(scheduleIds.recurringPayment(id)).delete();
          deleted++;
        } catch (err) {
          if ((err as Error).name !== 'ScheduleNotFoundError') throw err;
        }
      }
      return { schedules: deleted };
    },
    async tokens({ userId }) {
      return { refresh_tokens: await db('refresh_tokens').where({ user_id: userId }).delete() };
    },
    async mailbox({ userId }) {
      return { mailboxes: await db('mailboxes').where({ user_id: userId }).delete() };
    },
    async invoices({ userId }) {
      return {
        invoice_skips: await db('invoice_skips').where({ user_id: userId }).delete(),
        invoices: await db('invoices').where({ user_id: userId }).delete(),
        invoice_ingestions: await db('invoice_ingestions').where({ user_id: userId }).delete(),
      };
    },
    async statements({ userId }) {
      // The statements line may or may not have its table yet; erase its rows when it does.
      if (!(await db.schema.hasTable('statements'))) return { statements: 0 };
      return { statements: await db('statements').where({ user_id: userId }).delete() };
    },
    async objects({ userId }) {
      if (!deps.storage) throw new Error('erasure needs object storage to delete the customer prefix');
      return { objects: await deps.storage.deletePrefix(userPrefix(userId)) };
    },
    async ledger(subject) {
      const accounts = await db('ledger_accounts').where({ owner_user_id: subject.userId }).update({ owner_user_id: null });
      // The one edit ledger history allows: a transfer's metadata, scrubbed of whatever names the customer.
      const { sql, bindings } = mentions([{ column_name: 'metadata', data_type: 'jsonb' }], subject);
      const transfers = await db('ledger_transfers')
        .whereRaw(`(${sql}) or strpos(lower(metadata::text), lower(?)) > 0`, [...bindings, subject.name])
        .update({ metadata: db.raw(`jsonb_build_object('anonymised', true)`) });
      return { ledger_accounts: accounts, ledger_transfers: transfers };
    },
    async user({ userId }) {
      // Notifications keep a user_id that is set null on delete; their recipient and body are the customer's.
      const notifications = await db('notifications').where({ user_id: userId }).delete();
      return { notifications, users: await db('users').where({ id: userId }).delete() };
    },
    async sweep(subject) {
      const columns: Array<{ table_name: string; column_name: string; data_type: string }> = await db('information_schema.columns as c')
        .join('information_schema.tables as t', function () {
          this.on('t.table_schema', 'c.table_schema').andOn('t.table_name', 'c.table_name');
        })
        .whereRaw('c.table_schema = current_schema()')
        .where('t.table_type', 'BASE TABLE')
        .select('c.table_name', 'c.column_name', 'c.data_type');
      const byTable = new Map<string, Array<{ column_name: string; data_type: string }>>();
      for (const c of columns) {
        if (SWEEP_SKIPS.has(c.table_name) || !SEARCHED_TYPES.has(c.data_type)) continue;
        byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c]);
      }
      const erased: Record<string, number> = {};
      for (const [table, tableColumns] of [...byTable.entries()].sort()) {
        const { sql, bindings } = mentions(tableColumns, subject);
        const count = await db(table).whereRaw(sql, bindings).delete();
        if (count > 0) erased[table] = count;
      }
      return erased;
    },
    async forget({ userId }) {
      return { erasures: await db('erasures').where({ user_id: userId }).delete() };
    },
  };

  return {
    /** Runs one step of the customer's erasure; a step after `forget` (a resumed, finished erasure) erases nothing. */
    async runErasureStep({ userId, step }: { userId: string; step: ErasureStep }): Promise<ErasureStepResult> {
      const subject = await subjectOf(userId);
      if (!subject) return { step, erased: {} };
      return { step, erased: await steps[step](subject) };
    },
  };
}
